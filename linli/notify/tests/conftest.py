"""Local stand-ins for the outside transports: an HTTP gateway and an SMTP server.

Both listen on 127.0.0.1 on a free port, answer from a script given by the test, record
what they received, and stop when the test ends. Nothing leaves the machine.
"""

import json
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Gateway:
    """An HTTP endpoint that answers each request with the next scripted (status, body)."""

    url: str
    answers: deque = field(default_factory=deque)
    requests: list[ReceivedRequest] = field(default_factory=list)
    # Answer used once the script is used up.
    default_answer: tuple[int, bytes] = (200, b'{"errcode": 0, "errmsg": "ok"}')
    # Seconds to wait before answering (a hung gateway).
    delay_seconds: float = 0
    # Called with each request as it arrives, before the answer (in the server's thread).
    on_request: Callable[[ReceivedRequest], None] | None = None

    def answer_with(self, *answers: tuple[int, bytes | dict]) -> None:
        for status, body in answers:
            encoded = json.dumps(body).encode() if isinstance(body, dict) else body
            self.answers.append((status, encoded))


@pytest.fixture
def gateway(monkeypatch):
    # A proxy from the environment must not intercept requests to the local server.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state: dict[str, Gateway] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length", "0"))
            endpoint = state["gateway"]
            received = ReceivedRequest(
                method="POST",
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            endpoint.requests.append(received)
            if endpoint.on_request is not None:
                endpoint.on_request(received)
            time.sleep(endpoint.delay_seconds)
            status, body = (
                endpoint.answers.popleft() if endpoint.answers else endpoint.default_answer
            )
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        def log_message(self, format, *args):  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    state["gateway"] = Gateway(url=f"http://{host}:{port}")
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state["gateway"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class SmtpServer:
    host: str
    port: int
    mails: list[ReceivedMail] = field(default_factory=list)
    # The reply to RCPT TO; e.g. "550 no such user" to refuse every recipient.
    recipient_reply: str = "250 OK"


@pytest.fixture
def smtp_server():
    """A minimal SMTP server (EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it receives."""
    state: dict[str, SmtpServer] = {}

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            server = state["server"]
            sender, recipients = "", []
            self.reply("220 localhost test SMTP")
            while line := self.rfile.readline():
                command = line.decode().strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 localhost")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    if server.recipient_reply.startswith("2"):
                        recipients.append(command.split(":", 1)[1].strip(" <>"))
                    self.reply(server.recipient_reply)
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    server.mails.append(ReceivedMail(sender, recipients, data))
                    self.reply("250 OK queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")  # RSET, NOOP

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    state["server"] = SmtpServer(host=host, port=port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state["server"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
