"""The calls Linli makes to WeChat: web authorisation (OAuth 2.0) and the Official Account's
access token. Settings are read at call time (tests point the bases at a local fake).

WeChat answers HTTP 200 also when it refuses; the verdict is in `errcode`. Errors name the
host only, never the URL, whose query holds the app secret or a token.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache

SCOPE_BASE = "snsapi_base"
SCOPE_USERINFO = "snsapi_userinfo"
# A WeChat answer is a small JSON object: never read much.
MAX_RESPONSE_BYTES = 64 * 1024
# The access token is dropped from the cache this long before WeChat says it expires, so
# that a send never starts with a token about to lapse.
TOKEN_MARGIN_SECONDS = 300
# WeChat's errcodes for an access token that is invalid or expired (a newer one was fetched
# elsewhere, or its 2 hours passed): fetch a new one and try once more.
TOKEN_EXPIRED_ERRCODES = frozenset({40001, 40014, 42001})


class WeChatUnreachable(Exception):
    """No usable answer (network, timeout, HTTP error, not JSON): worth trying again later."""


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"WeChat errcode {errcode}: {errmsg}".rstrip(": "))
        self.errcode = errcode
        self.errmsg = errmsg


def enabled() -> bool:
    """WeChat is on when the Official Account's app id is set (LINLI_WECHAT_APP_ID)."""
    return bool(settings.LINLI_WECHAT_APP_ID)


def api_url(path: str, **query: str) -> str:
    base = f"{settings.LINLI_WECHAT_API_BASE}{path}"
    return f"{base}?{urlencode(query)}" if query else base


def _host(url: str) -> str:
    return urlsplit(url).hostname or "WeChat"


def _checked(answer: bytes, url: str) -> dict:
    try:
        result = json.loads(answer)
    except ValueError:
        raise WeChatUnreachable(f"{_host(url)} answered without JSON") from None
    if not isinstance(result, dict):
        raise WeChatUnreachable(f"{_host(url)} answered without a JSON object")
    errcode = result.get("errcode") or 0
    if errcode != 0:
        raise WeChatError(int(errcode), str(result.get("errmsg", "")))
    return result


def get_json(url: str) -> dict:
    """GET a WeChat API URL; the answer's JSON object, or WeChatUnreachable / WeChatError."""
    request = urllib.request.Request(url, headers={"User-Agent": "linli-wechat"})
    # A new opener per call reads the proxy variables of the moment.
    opener = urllib.request.build_opener()
    try:
        with opener.open(request, timeout=settings.LINLI_NOTIFY_TIMEOUT_SECONDS) as response:
            answer = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:
        raise WeChatUnreachable(f"{_host(url)} answered HTTP {error.code}") from None
    except (OSError, HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise WeChatUnreachable(f"{_host(url)} unreachable: {reason}") from None
    return _checked(answer, url)


def checked_answer(answer: bytes, url: str) -> dict:
    """The JSON object of an answer to a POST (linli.notify.channels.post_json)."""
    return _checked(answer, url)


# Web authorisation (OAuth 2.0) ------------------------------------------------------------


def authorize_url(*, redirect_uri: str, scope: str, state: str) -> str:
    """Where the person's WeChat asks them to authorise us. WeChat reads the parameters in
    this order and needs the #wechat_redirect fragment."""
    query = urlencode(
        [
            ("appid", settings.LINLI_WECHAT_APP_ID),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", scope),
            ("state", state),
        ]
    )
    return f"{settings.LINLI_WECHAT_OPEN_BASE}/connect/oauth2/authorize?{query}#wechat_redirect"


@dataclass(frozen=True)
class WeChatIdentity:
    """Who WeChat says the person is."""

    openid: str
    unionid: str = ""
    nickname: str = ""


def identity_for_code(code: str) -> WeChatIdentity:
    """Exchange the code WeChat gave the callback for the person's openid (and with
    snsapi_userinfo their nickname and unionid). The code works once, for 5 minutes."""
    answer = get_json(
        api_url(
            "/sns/oauth2/access_token",
            appid=settings.LINLI_WECHAT_APP_ID,
            secret=settings.LINLI_WECHAT_APP_SECRET,
            code=code,
            grant_type="authorization_code",
        )
    )
    openid = str(answer.get("openid") or "")
    if not openid:
        raise WeChatUnreachable("WeChat answered without an openid")
    unionid = str(answer.get("unionid") or "")
    nickname = ""
    if SCOPE_USERINFO in str(answer.get("scope") or "").split(","):
        info = get_json(
            api_url(
                "/sns/userinfo",
                access_token=str(answer.get("access_token") or ""),
                openid=openid,
                lang="zh_CN",
            )
        )
        if str(info.get("openid") or openid) != openid:
            raise WeChatUnreachable("WeChat answered about another openid")
        unionid = str(info.get("unionid") or unionid)
        nickname = str(info.get("nickname") or "")
    return WeChatIdentity(openid=openid, unionid=unionid[:64], nickname=nickname[:100])


# The Official Account's access token -------------------------------------------------------


def _token_cache_key() -> str:
    return f"wechat:access_token:{settings.LINLI_WECHAT_APP_ID}"


def access_token(*, refresh: bool = False) -> str:
    """The Official Account's access token (client credential), cached in the shared cache
    until shortly before it expires. `refresh` fetches a new one whatever the cache holds."""
    key = _token_cache_key()
    if not refresh:
        cached = cache.get(key)
        if cached:
            return cached
    answer = get_json(
        api_url(
            "/cgi-bin/token",
            grant_type="client_credential",
            appid=settings.LINLI_WECHAT_APP_ID,
            secret=settings.LINLI_WECHAT_APP_SECRET,
        )
    )
    token = str(answer.get("access_token") or "")
    if not token:
        raise WeChatUnreachable("WeChat answered without an access token")
    try:
        expires_in = int(answer.get("expires_in") or 0)
    except (TypeError, ValueError):
        expires_in = 0
    lifetime = expires_in - TOKEN_MARGIN_SECONDS
    if lifetime > 0:
        cache.set(key, token, lifetime)
    else:
        cache.delete(key)
    return token


def forget_access_token() -> None:
    cache.delete(_token_cache_key())
