from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from linli.accounts.services import token_create, token_user


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = token_user(key=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The web's session, with Django's CSRF check on unsafe methods."""


router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    username: str


class ErrorOut(Schema):
    message: str
    field: str | None = None


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut})
def create_token(request: HttpRequest, payload: TokenIn):
    result = token_create(request=request, username=payload.username, password=payload.password)
    if result is None:
        return 401, {
            "message": "Invalid username or password, or too many failed attempts",
            "field": "password",
        }
    user, key = result
    return 200, {"token": key, "username": user.username}
