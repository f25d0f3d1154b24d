"""Local stand-ins for the mail services the outbox talks to: a real SMTP server (aiosmtpd)
and a GOV.UK Notify look-alike (http.server), both on 127.0.0.1 and a free port."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpStub:
    """An SMTP server that keeps what it is sent. Recipients whose address starts with
    ``refused`` are refused for good (550), ``later`` for now (451)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        if address.startswith("later"):
            return "451 4.3.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        with self.lock:
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"right-password")


class running_smtp:  # noqa: N801 (used like a function: ``with running_smtp() as smtp``)
    def __init__(self) -> None:
        self.stub = SmtpStub(port=free_port())
        self.controller = Controller(
            self.stub,
            hostname="127.0.0.1",
            port=self.stub.port,
            authenticator=self.stub.authenticate,
            auth_require_tls=False,
        )

    def __enter__(self) -> SmtpStub:
        self.controller.start()
        return self.stub

    def __exit__(self, *exc) -> None:
        self.controller.stop()


SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
#: A key in GOV.UK Notify's shape: name, service id, secret.
NOTIFY_API_KEY = f"fundflow_test-{SERVICE_ID}-{SECRET}"


@dataclass
class NotifyStub:
    """Answers ``POST /v2/notifications/email`` like GOV.UK Notify, after checking the
    bearer token is a JWT signed with the key's secret and issued by its service."""

    port: int = 0
    requests: list[dict] = field(default_factory=list)
    #: The HTTP status to answer with (201: accepted).
    status: int = 201
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class running_notify:  # noqa: N801
    def __init__(self) -> None:
        stub = self.stub = NotifyStub()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                try:
                    valid = decode_jwt_token(token, SECRET) and get_token_issuer(token) == SERVICE_ID
                except Exception:
                    valid = False
                with stub.lock:
                    stub.requests.append({"path": self.path, "json": body, "valid_token": valid})
                if not valid:
                    self._answer(403, {"errors": [{"error": "AuthError", "message": "Invalid token"}]})
                elif stub.status == 201:
                    self._answer(201, {"id": str(uuid.uuid4()), "reference": body.get("reference")})
                else:
                    self._answer(
                        stub.status, {"errors": [{"error": "Stub", "message": f"Answered {stub.status}"}]}
                    )

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps({"status_code": status, **payload}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        stub.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> NotifyStub:
        self.thread.start()
        return self.stub

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
