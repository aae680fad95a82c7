"""A local stand-in for the WeChat endpoints Linli calls, for tests and trials.

A threaded http.server on 127.0.0.1 (a free port unless one is given) that speaks enough of
WeChat's API to run login and template messages end to end, and records every request:

    GET  /connect/oauth2/authorize     the person "authorises": 302 back to redirect_uri with
                                       a one-time code for the configured openid
    GET  /sns/oauth2/access_token      code → openid (+ unionid with snsapi_userinfo)
    GET  /sns/userinfo                 openid → nickname (+ unionid)
    GET  /cgi-bin/token                the Official Account's access token (7200 s)
    POST /cgi-bin/message/template/send  records the message; answers errcode 0, or the next
                                       scripted errcode (`answer_next`)

It never makes a request of its own. Point LINLI_WECHAT_API_BASE and LINLI_WECHAT_OPEN_BASE
at `fake.url` (linli/wechat/tests/conftest.py's `fake_wechat` fixture does).
"""

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TOKEN_SECONDS = 7200


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    body: bytes = b""

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeUser:
    """The WeChat user who authorises next."""

    openid: str
    unionid: str = ""
    nickname: str = ""


@dataclass
class _Grant:
    user: FakeUser
    scope: str


@dataclass
class FakeWeChat:
    app_id: str = "wx-fake-app-id"
    app_secret: str = "fake-app-secret"
    host: str = "127.0.0.1"
    port: int = 0
    user: FakeUser = field(default_factory=lambda: FakeUser(openid="o-fake-openid-0000000000001"))
    requests: list[FakeRequest] = field(default_factory=list)
    # Template messages received (their JSON bodies), in order.
    messages: list[dict] = field(default_factory=list)
    # Access tokens issued, in order; only the last is valid (as on WeChat, where a new one
    # replaces the old), and none once `expire_tokens` was called.
    tokens: list[str] = field(default_factory=list)
    _answers: deque = field(default_factory=deque)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _user_tokens: dict[str, _Grant] = field(default_factory=dict)
    _tokens_expired: bool = False
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # Control ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def authorize_as(self, openid: str, *, unionid: str = "", nickname: str = "") -> None:
        """The WeChat user who authorises at the next /connect/oauth2/authorize."""
        self.user = FakeUser(openid=openid, unionid=unionid, nickname=nickname)

    def answer_next(self, errcode: int, errmsg: str = "") -> None:
        """The next template send is answered with this errcode (queued, one per call)."""
        self._answers.append((errcode, errmsg or f"fake errcode {errcode}"))

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (as after its 2 hours)."""
        self._tokens_expired = True

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def start(self) -> "FakeWeChat":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                fake._handle(self, "GET")

            def do_POST(self):  # noqa: N802 - the http.server API
                fake._handle(self, "POST")

            def log_message(self, format, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> "FakeWeChat":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # Serving ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = b""
        if method == "POST":
            body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        request = FakeRequest(method=method, path=parts.path, query=query, body=body)
        with self._lock:
            self.requests.append(request)
            route = {
                ("GET", "/connect/oauth2/authorize"): self._authorize,
                ("GET", "/sns/oauth2/access_token"): self._oauth_access_token,
                ("GET", "/sns/userinfo"): self._userinfo,
                ("GET", "/cgi-bin/token"): self._token,
                ("POST", "/cgi-bin/message/template/send"): self._template_send,
            }.get((method, parts.path))
            if route is None:
                status, headers, answer = 404, {}, _error(404, "not served by the fake")
            else:
                status, headers, answer = route(request)
        encoded = json.dumps(answer, ensure_ascii=False).encode()
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(encoded)))
            handler.end_headers()
            handler.wfile.write(encoded)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _authorize(self, request: FakeRequest):
        query = request.query
        scope = query.get("scope", "")
        if query.get("appid") != self.app_id:
            return 200, {}, _error(10003, "redirect_uri domain or appid mismatch")
        if query.get("response_type") != "code" or scope not in ("snsapi_base", "snsapi_userinfo"):
            return 200, {}, _error(10005, "unsupported response_type or scope")
        code = secrets.token_hex(16)
        self._grants[code] = _Grant(user=self.user, scope=scope)
        target = urlsplit(query.get("redirect_uri", ""))
        back = urlencode(
            [*parse_qsl(target.query), ("code", code), ("state", query.get("state", ""))]
        )
        location = urlunsplit((target.scheme, target.netloc, target.path, back, ""))
        return 302, {"Location": location}, {}

    def _oauth_access_token(self, request: FakeRequest):
        query = request.query
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return 200, {}, _error(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return 200, {}, _error(40002, "invalid grant_type")
        grant = self._grants.pop(query.get("code", ""), None)  # a code works once
        if grant is None:
            return 200, {}, _error(40029, "invalid code")
        token = secrets.token_hex(16)
        self._user_tokens[token] = grant
        answer = {
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "refresh_token": secrets.token_hex(16),
            "openid": grant.user.openid,
            "scope": grant.scope,
        }
        if grant.scope == "snsapi_userinfo" and grant.user.unionid:
            answer["unionid"] = grant.user.unionid
        return 200, {}, answer

    def _userinfo(self, request: FakeRequest):
        grant = self._user_tokens.get(request.query.get("access_token", ""))
        if grant is None or grant.user.openid != request.query.get("openid"):
            return 200, {}, _error(40001, "invalid credential, access_token is invalid")
        if grant.scope != "snsapi_userinfo":
            return 200, {}, _error(48001, "api unauthorized")
        answer = {"openid": grant.user.openid, "nickname": grant.user.nickname}
        if grant.user.unionid:
            answer["unionid"] = grant.user.unionid
        return 200, {}, answer

    def _token(self, request: FakeRequest):
        query = request.query
        if query.get("grant_type") != "client_credential":
            return 200, {}, _error(40002, "invalid grant_type")
        if query.get("appid") != self.app_id:
            return 200, {}, _error(40013, "invalid appid")
        if query.get("secret") != self.app_secret:
            return 200, {}, _error(40125, "invalid appsecret")
        token = f"fake-access-token-{len(self.tokens) + 1}"
        self.tokens.append(token)
        self._tokens_expired = False
        return 200, {}, {"access_token": token, "expires_in": TOKEN_SECONDS}

    def _template_send(self, request: FakeRequest):
        token = request.query.get("access_token", "")
        if not self.tokens or token != self.tokens[-1]:
            return 200, {}, _error(40001, "invalid credential, access_token is invalid")
        if self._tokens_expired:
            return 200, {}, _error(42001, "access_token expired")
        try:
            message = json.loads(request.body)
        except ValueError:
            return 200, {}, _error(47001, "data format error")
        self.messages.append(message)
        if self._answers:
            errcode, errmsg = self._answers.popleft()
            return 200, {}, _error(errcode, errmsg)
        return 200, {}, {"errcode": 0, "errmsg": "ok", "msgid": len(self.messages)}


def _error(errcode: int, errmsg: str) -> dict:
    return {"errcode": errcode, "errmsg": errmsg}
