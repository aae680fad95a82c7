"""`/api/v1/logins`: the logins a secretary or street administrator manages.

Thin: reads through linli.logins.selectors, writes through linli.logins.services; a refusal
is answered by the API's one handler (403 naming the reason, 404, 400 naming the field).
Callers who assign no posts get 404 from every route. Phone numbers leave masked only.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.addresses import client_address
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.api_shared import ERRORS, WRITE_ERRORS, Id, PageIn, paginate, visible_or_404
from linli.errors import NotVisible
from linli.logins import selectors, services
from linli.logins.posts import GRANTABLE_ROLES, POST_ROLES
from linli.logins.services import REASON_MAX_LENGTH, SignIn

router = Router(tags=["logins"])

PostCode = Literal[tuple(POST_ROLES)]  # type: ignore[valid-type]
FilterRole = Literal[(*GRANTABLE_ROLES, Role.RESIDENT)]  # type: ignore[valid-type]


class PostOut(Schema):
    id: int
    role: str
    post: str
    grid_unit_id: int
    grid_unit: str


class LoginOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str = Field(description="Masked, e.g. 138****1234")
    is_active: bool
    last_login: datetime | None
    two_factor: str = Field(description="on, missing (needed, not set up) or not_needed")
    posts: list[PostOut] = Field(description="The posts inside the caller's area")
    posts_elsewhere: int = Field(description="How many posts it holds outside the caller's area")
    resident_login: bool = Field(description="Linked to a resident inside the caller's area")


class LoginPage(Schema):
    items: list[LoginOut]
    count: int


class LoginFilters(Schema):
    q: str = Field("", max_length=50, description="Name or username contains, or phone digits")
    role: FilterRole | None = Field(None, description="Holds this role inside the caller's area")
    active: bool | None = None


class LoginIn(Schema):
    username: str = Field(max_length=150)
    display_name: str = Field(max_length=100)
    phone: str = Field(max_length=20, description="An 11-digit mainland mobile number")
    email: str = Field("", max_length=254)
    post: PostCode = Field(description="The first post; its role follows from it")  # type: ignore[valid-type]
    grid_unit_id: Id = Field(description="Where the post is held, inside the caller's area")
    sign_in: Literal[SignIn.values] = Field(  # type: ignore[valid-type]
        SignIn.TEMPORARY_PASSWORD,
        description="temporary_password (returned once) or phone_code (signs in by SMS code)",
    )


class LoginCreatedOut(Schema):
    login: LoginOut
    temporary_password: str | None = Field(
        description="Shown this once; the person replaces it at their first sign-in"
    )


class LoginReasonIn(Schema):
    reason: str = Field("", max_length=REASON_MAX_LENGTH)


def _login(row: selectors.LoginRow) -> dict[str, Any]:
    login = row.login
    return {
        "id": login.pk,
        "username": login.username,
        "display_name": login.display_name,
        "phone": row.phone_masked,
        "is_active": login.is_active,
        "last_login": timezone.localtime(login.last_login) if login.last_login else None,
        "two_factor": row.two_factor,
        "posts": [
            {
                "id": post.pk,
                "role": post.role,
                "post": post.post,
                "grid_unit_id": post.grid_unit_id,
                "grid_unit": post.grid_unit.name,
            }
            for post in row.posts
        ],
        "posts_elsewhere": row.posts_elsewhere,
        "resident_login": row.resident_here,
    }


def _one(user: User, login: User) -> dict[str, Any]:
    return _login(selectors.login_row(user=user, login=login))


def _managed(user: User, login_id: int) -> User:
    # Someone who manages no logins is told the same as about a login out of their area.
    if not selectors.may_manage_logins(user=user):
        raise NotVisible("login_id")
    return visible_or_404(selectors.login_get, "login_id", user=user, login_id=login_id)


@router.get("", response={200: LoginPage, **ERRORS}, summary="Logins of the caller's area")
def login_list(
    request: HttpRequest, filters: Query[LoginFilters], page: Query[PageIn]
) -> dict[str, Any]:
    user = request.auth
    selectors.needs_login_manager(user=user)
    logins = selectors.login_search(
        user=user, query=filters.q, role=filters.role or "", active=filters.active
    )
    items, count = paginate(logins, page)
    return {
        "items": [_login(row) for row in selectors.login_rows(user=user, logins=items)],
        "count": count,
    }


@router.get("/{login_id}", response={200: LoginOut, **ERRORS})
def login_detail(request: HttpRequest, login_id: Id) -> dict[str, Any]:
    return _one(request.auth, _managed(request.auth, login_id))


@router.post(
    "",
    response={201: LoginCreatedOut, **WRITE_ERRORS},
    summary="Make a login with its first post",
)
def login_create(request: HttpRequest, payload: LoginIn):
    user = request.auth
    selectors.needs_login_manager(user=user)
    grid_unit = visible_or_404(
        selectors.post_unit_get, "grid_unit_id", user=user, grid_unit_id=payload.grid_unit_id
    )
    created = services.login_create(
        actor=user,
        username=payload.username,
        display_name=payload.display_name,
        phone=payload.phone,
        email=payload.email,
        post=payload.post,
        grid_unit=grid_unit,
        sign_in=payload.sign_in,
        ip_address=client_address(request),
    )
    return Status(
        201,
        {
            "login": _one(user, created.login),
            "temporary_password": created.temporary_password or None,
        },
    )


@router.post(
    "/{login_id}/deactivate",
    response={200: LoginOut, **WRITE_ERRORS},
    summary="Deactivate a login: its API tokens are revoked and its sessions ended",
)
def login_deactivate(request: HttpRequest, login_id: Id, payload: LoginReasonIn | None = None):
    login = _managed(request.auth, login_id)
    services.login_deactivate(
        actor=request.auth,
        login=login,
        reason=payload.reason if payload else "",
        ip_address=client_address(request),
    )
    login.refresh_from_db()
    return _one(request.auth, login)


@router.post("/{login_id}/reactivate", response={200: LoginOut, **WRITE_ERRORS})
def login_reactivate(request: HttpRequest, login_id: Id, payload: LoginReasonIn | None = None):
    login = _managed(request.auth, login_id)
    services.login_reactivate(
        actor=request.auth,
        login=login,
        reason=payload.reason if payload else "",
        ip_address=client_address(request),
    )
    login.refresh_from_db()
    return _one(request.auth, login)
