"""The logins a secretary or street administrator manages, read through the one scope kernel.

A login is in the actor's area when it holds a post or a resident login inside the subtrees
where the actor may assign posts (`grids.selectors.users_in_scope`, Permission.MANAGE_ROLES).
A login with posts in several communities is in each of their secretaries' areas; each sees
and changes only the posts inside their own (the others are counted, never named).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli import clock
from linli.accounts.grid_paths import is_within
from linli.accounts.models import ApiToken, AuditAction, AuditEntry, User
from linli.accounts.privacy import mask_phone
from linli.accounts.roles import ROLE_LEVELS, Permission, Role
from linli.accounts.two_factor import TWO_FACTOR_ROLES
from linli.errors import get_visible_or_404
from linli.grids.models import GridUnit, GridUnitQuerySet, Resident, ResidentAccount, RoleAssignment
from linli.grids.selectors import (
    audit_entries_visible,
    needs_registry,
    residents_visible,
    scope_for,
    user_can,
    users_in_scope,
)
from linli.logins.posts import GRANTABLE_ROLES


class TwoFactorState:
    """Two-factor sign-in of a login, as the list shows it."""

    ON = "on"  # an authenticator app is set up
    MISSING = "missing"  # their post needs one and none is set up yet
    NOT_NEEDED = "not_needed"


def manage_paths(*, user: User) -> list[str]:
    """Where `user` may assign posts: the subtrees of their area."""
    return scope_for(user).paths_for(Permission.MANAGE_ROLES)


def may_manage_logins(*, user: User) -> bool:
    return user_can(user=user, permission=Permission.MANAGE_ROLES)


def needs_login_manager(*, user: User) -> None:
    """The pages and routes of this app answer 404 to anyone who assigns no posts."""
    needs_registry(user=user, permission=Permission.MANAGE_ROLES)


def logins_visible(*, user: User) -> QuerySet[User]:
    """The logins of `user`'s area (nothing for someone who assigns no posts)."""
    return users_in_scope(user=user, permission=Permission.MANAGE_ROLES)


def login_get(*, user: User, login_id, field: str | None = None) -> User:
    """One login of the area, or 404 (absent and out of the area answer alike)."""
    return get_visible_or_404(logins_visible(user=user), login_id, field=field)


def login_search(
    *, user: User, query: str = "", role: str = "", active: bool | None = None
) -> QuerySet[User]:
    """The area's logins by name, username or phone digits, by a role held inside the area,
    and active or not; with their two-factor state annotated (no query a row)."""
    logins = logins_visible(user=user)
    query = query.strip()
    if query:
        condition = Q(display_name__icontains=query) | Q(username__icontains=query)
        digits = query.replace(" ", "")
        if digits.isdigit() and len(digits) >= 3:
            condition |= Q(phone__contains=digits)
        logins = logins.filter(condition)
    if role:
        paths = manage_paths(user=user)
        holding = RoleAssignment.objects.within(paths).filter(role=role).values("user_id")
        condition = Q(pk__in=holding)
        if role == Role.RESIDENT:
            linked = ResidentAccount.objects.filter(
                resident__in=Resident.objects.within(paths).values("id")
            ).values("user_id")
            condition |= Q(pk__in=linked)
        logins = logins.filter(condition)
    if active is not None:
        logins = logins.filter(is_active=active)
    return with_two_factor(logins).order_by("display_name", "username", "id")


def with_two_factor(logins: QuerySet[User]) -> QuerySet[User]:
    return logins.annotate(
        two_factor_enrolled=Exists(
            TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
        ),
        two_factor_needed=Exists(
            RoleAssignment.objects.filter(user_id=OuterRef("pk"), role__in=TWO_FACTOR_ROLES)
        ),
    )


def two_factor_state(login: User) -> str:
    """From the annotations of `with_two_factor`."""
    if getattr(login, "two_factor_enrolled", False):
        return TwoFactorState.ON
    if getattr(login, "two_factor_needed", False) or login.is_superuser:
        return TwoFactorState.MISSING
    return TwoFactorState.NOT_NEEDED


def two_factor_devices_exist(*, login: User) -> bool:
    """Whether there is anything to reset: an authenticator (set up or half set up) or codes."""
    return (
        TOTPDevice.objects.filter(user=login).exists()
        or StaticDevice.objects.filter(user=login).exists()
    )


@dataclass
class LoginRow:
    """One login as the actor sees it: the posts inside their area, the count of the others."""

    login: User
    posts: list[RoleAssignment] = field(default_factory=list)
    posts_elsewhere: int = 0
    resident_here: bool = False
    resident_elsewhere: bool = False

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.login.phone)

    @property
    def two_factor(self) -> str:
        return two_factor_state(self.login)

    @property
    def last_login(self) -> datetime | None:
        return self.login.last_login


def login_rows(*, user: User, logins) -> list[LoginRow]:
    """Rows for a page of logins: two queries whatever the page's length."""
    logins = list(logins)
    scope = scope_for(user)
    paths = manage_paths(user=user)
    rows = {login.pk: LoginRow(login=login) for login in logins}
    assignments = (
        RoleAssignment.objects.filter(user_id__in=rows)
        .select_related("grid_unit")
        .order_by("grid_path", "role", "id")
    )
    for assignment in assignments:
        row = rows[assignment.user_id]
        if scope.unrestricted or is_within(assignment.grid_path, paths):
            row.posts.append(assignment)
        else:
            row.posts_elsewhere += 1
    for user_id, resident_path in ResidentAccount.objects.filter(user_id__in=rows).values_list(
        "user_id", "resident__grid_path"
    ):
        if scope.unrestricted or is_within(resident_path, paths):
            rows[user_id].resident_here = True
        else:
            rows[user_id].resident_elsewhere = True
    return [rows[login.pk] for login in logins]


def login_row(*, user: User, login: User) -> LoginRow:
    annotated = with_two_factor(User.objects.filter(pk=login.pk)).get()
    return login_rows(user=user, logins=[annotated])[0]


def login_resident(*, user: User, login: User) -> tuple[Resident | None, bool]:
    """The resident the login is linked to, and whether `user` may open their registry page
    (None, False when it is linked to no one)."""
    account = ResidentAccount.objects.filter(user=login).select_related("resident").first()
    if account is None:
        return None, False
    visible = residents_visible(user=user).filter(pk=account.resident_id).exists()
    return account.resident, visible


def login_post_get(*, user: User, login: User, assignment_id) -> RoleAssignment:
    """One of the login's posts inside `user`'s area, or 404 (a post elsewhere is not
    `user`'s to see or change)."""
    posts = (
        RoleAssignment.objects.filter(user=login)
        .within(manage_paths(user=user))
        .select_related("user", "grid_unit")
    )
    return get_visible_or_404(posts, assignment_id, field="assignment_id")


def live_token_count(*, login: User) -> int:
    """The API tokens of the login that still answer."""
    return ApiToken.objects.filter(
        user=login, revoked_at__isnull=True, expires_at__gt=clock.now()
    ).count()


def login_audit_entries(*, user: User, login: User) -> QuerySet[AuditEntry]:
    """The audit entries about this login that `user` may read: its account, its posts, its
    API tokens, its resident link. Posts and tokens are found by their label, which starts
    with the username (a username holds no spaces, so "name · " names exactly one)."""
    prefix = f"{login.username} · "
    condition = Q(object_type="user", object_id=str(login.pk)) | Q(
        object_type__in=("role_assignment", "api_token"), object_label__startswith=prefix
    )
    resident_id = (
        ResidentAccount.objects.filter(user=login).values_list("resident_id", flat=True).first()
    )
    if resident_id is not None:
        condition |= Q(
            object_type="resident",
            object_id=str(resident_id),
            action__in=(AuditAction.LINK, AuditAction.UNLINK),
        )
    return audit_entries_visible(user=user).filter(condition).order_by("-created_at", "-id")


def post_units(*, user: User, role: str | None = None) -> GridUnitQuerySet:
    """The grid units on which `user` may give posts (of `role`, or of any role offered)."""
    roles = [role] if role else list(GRANTABLE_ROLES)
    levels = {level for each in roles for level in ROLE_LEVELS.get(each, ())}
    return (
        GridUnit.objects.within(manage_paths(user=user)).filter(level__in=levels).order_by("path")
    )


def post_unit_get(*, user: User, grid_unit_id, field: str | None = "grid_unit_id") -> GridUnit:
    return get_visible_or_404(post_units(user=user), grid_unit_id, field=field)
