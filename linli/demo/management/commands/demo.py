"""`linli demo`: migrate if needed, generate the demo community, list its logins, serve.

`--no-serve` only generates; `--residents N` makes a bigger district of A-shaped
communities (exactly N demo residents) for benchmarks. Running it again finds everything in
place and adds nothing.
"""

import unicodedata

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.accounts.roles import Role
from linli.accounts.two_factor import TWO_FACTOR_ROLES
from linli.demo.generator import (
    DEFAULT_RESIDENTS,
    DEFAULT_SEED,
    DemoConflict,
    DemoLogin,
    demo_generate,
)
from linli.env import env_int, env_str
from linli.grids.models import Post
from linli.ops.scheduler import unapplied_migrations


def display_width(text: str) -> int:
    """The columns `text` takes in a terminal. Chinese characters and full-width punctuation
    （，：） take two; combining marks and invisible format characters none; everything else
    one. Ambiguous-width characters ('·', '—') count one, as nearly every terminal draws them
    outside legacy CJK settings; the table itself adds none (see `role_with_post`)."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            cell + " " * (width - display_width(cell))
            for cell, width in zip(cells, widths, strict=True)
        ]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def role_with_post(role: str, post: str) -> str:
    """ "Micro-grid lead (Branch secretary)", "微网格负责人（党支部书记）": brackets, never '·',
    whose width terminals disagree on. A post the role's name already names is the role
    made precise: "社区党总支书记 / 居委会社工" held as 社区党总支书记 is shown as the post alone."""
    if not post or post == role:
        return role
    if post in role:
        return post
    return _("%(role)s (%(post)s)") % {"role": role, "post": post}


def logins_table(logins: list[DemoLogin], *, password: str) -> str:
    """One row a login, then the password they share (a column of the same word would
    widen the table past a terminal's 80 columns)."""
    roles, posts = dict(Role.choices), dict(Post.choices)
    rows = [
        [
            login.username,
            role_with_post(str(roles[login.role]), str(posts.get(login.post, ""))),
            login.scope,
            login.display_name,
        ]
        for login in logins
    ]
    header = [str(cell) for cell in (_("Username"), _("Role"), _("Scope"), _("Display name"))]
    return (
        format_table(header, rows)
        + "\n"
        + _("Password of every login: %(password)s") % {"password": password}
    )


def two_factor_note(logins: list[DemoLogin]) -> str:
    """Under the logins: whether the staff among them will be asked for a code."""
    staff = ", ".join(login.username for login in logins if login.role in TWO_FACTOR_ROLES)
    if settings.LINLI_STAFF_TWO_FACTOR:
        return _(
            "Two-factor sign-in is on: %(staff)s set up an authenticator app at their first log-in."
        ) % {"staff": staff}
    return _(
        "Two-factor sign-in is off here (LINLI_STAFF_TWO_FACTOR=0); in production %(staff)s "
        "also type a code from an authenticator app."
    ) % {"staff": staff}


class Command(BaseCommand):
    help = "Generate the synthetic demo community (idempotent) and serve it with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve", action="store_true", help="only generate; do not start the server"
        )
        parser.add_argument(
            "--residents",
            type=int,
            default=None,
            help=f"total demo residents (default {DEFAULT_RESIDENTS:,}); more adds "
            "communities of A社区's shape, for benchmarks",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        # The defaults of `linli serve`, which it hands them to.
        parser.add_argument("--host", default=env_str("LINLI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("LINLI_PORT", 8000))
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, **options):
        if options["residents"] is not None and options["residents"] < 0:
            raise CommandError("--residents must be zero or more.")
        if unapplied_migrations():
            self.stdout.write("Migrating the database …")
            call_command("migrate", interactive=False, verbosity=0)
        database = settings.DATABASES["default"]
        self.stdout.write(
            f"Generating the demo community (seed {options['seed']}) in "
            f"{database['ENGINE'].rsplit('.', 1)[-1]} database {database['NAME']} …"
        )
        try:
            result = demo_generate(
                seed=options["seed"],
                residents=options["residents"],
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except DemoConflict as error:
            raise CommandError(str(error)) from None
        totals, added = result.totals, result.added
        self.stdout.write(
            f"Done in {result.seconds:.1f} s: {result.communities} communities, "
            f"{totals['grid_units']:,} grid units, {totals['buildings']:,} buildings, "
            f"{totals['households']:,} households, {totals['residents']:,} residents "
            f"({added['residents']:,} residents, {result.visits_added:,} visits and "
            f"{result.cases_added:,} cases new in this run)."
        )
        self.stdout.write("")
        self.stdout.write(logins_table(result.logins, password=result.password))
        self.stdout.write(two_factor_note(result.logins))
        self.stdout.write("")
        if not options["no_serve"]:
            call_command(
                "serve", host=options["host"], port=options["port"], workers=options["workers"]
            )
