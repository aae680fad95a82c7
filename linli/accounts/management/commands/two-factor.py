"""`linli two-factor reset USERNAME --reason TEXT` | `status USERNAME`.

For IT at the command line, when a street administrator cannot help (their own phone is lost,
or nobody else administers the street): removes the person's authenticator and recovery
codes, audited with no actor; at their next page they set up an authenticator again.
"""

from django.core.management.base import BaseCommand, CommandError

from linli.accounts import two_factor
from linli.accounts.models import User


class Command(BaseCommand):
    help = "Reset or show a person's two-factor sign-in."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        reset = commands.add_parser("reset", help="remove the authenticator and recovery codes")
        reset.add_argument("username")
        reset.add_argument("--reason", default="", help="why, for the audit log")
        status = commands.add_parser("status", help="whether two-factor sign-in is set up")
        status.add_argument("username")

    def handle(self, *args, action: str, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有此用户 / no user named {username!r}")
        getattr(self, f"_{action}")(user=user, **options)

    def _reset(self, *, user: User, reason: str, **options):
        two_factor.two_factor_reset(user=user, actor=None, reason=reason)
        self.stdout.write(
            f"Two-factor sign-in of {user.username} is reset: at their next page they set up "
            "an authenticator app again. / 已重置，下次登录时重新绑定验证器。"
        )

    def _status(self, *, user: User, **options):
        device = two_factor.confirmed_totp(user)
        needed = "needs it" if two_factor.needs_two_factor(user) else "does not need it"
        if device is None:
            self.stdout.write(f"{user.username}: not set up ({needed})")
            return
        used = f"{device.last_used_at:%Y-%m-%d %H:%M}" if device.last_used_at else "never"
        self.stdout.write(
            f"{user.username}: set up {device.created_at:%Y-%m-%d}, last used {used}, "
            f"{two_factor.recovery_codes_left(user)} recovery codes left ({needed})"
        )
