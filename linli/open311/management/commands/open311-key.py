"""`linli open311-key create NAME --community CODE` | `revoke PREFIX` | `list`.

For the operator at the command line: runs as the system (the whole street), and every
issue and revocation is audited like the web pages' (with no actor). `create` prints the
key on its last line; it is shown only then.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.open311 import selectors, services
from linli.open311.models import Open311Key


class Command(BaseCommand):
    help = "Issue, revoke and list Open311 keys."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="issue a key for one community")
        create.add_argument("name", help="the app or system that will use the key")
        create.add_argument("--community", required=True, help="community grid code")
        revoke = commands.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix", help="the first 8 characters of the key")
        commands.add_parser("list", help="list every key")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

    def _create(self, *, name: str, community: str, **options):
        unit = selectors.jurisdiction_get(code=community)
        if unit is None:
            raise CommandError(f"没有此社区 / no community with code {community!r}")
        key, secret = services.open311_key_create(actor=None, community=unit, name=name)
        self.stdout.write(
            f"Open311 key “{key.name}” for {unit.name} (jurisdiction_id {unit.code}), "
            f"prefix {key.prefix}. 仅显示一次 / shown only once:"
        )
        self.stdout.write(secret)

    def _revoke(self, *, prefix: str, **options):
        key = selectors.key_by_prefix(prefix=prefix)
        if key is None:
            raise CommandError(f"没有此密钥 / no key with prefix {prefix!r}")
        services.open311_key_revoke(actor=None, key=key)
        self.stdout.write(f"revoked {key.prefix} “{key.name}” ({key.community.code})")

    def _list(self, **options):
        for key in Open311Key.objects.select_related("community").order_by("created_at", "id"):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(
                f"{key.prefix}\t{key.community.code}\t{state}\tlast used {used}\t{key.name}"
            )
