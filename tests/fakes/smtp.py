"""A fake SMTP server on 127.0.0.1 (RFC 5321 with AUTH PLAIN/LOGIN, RFC 4954): enough of the
protocol for ``smtplib`` — EHLO/HELO, AUTH, MAIL FROM, RCPT TO, DATA (dot-unstuffed), RSET,
NOOP, QUIT — keeping every message it accepts. ``reject_mail_from`` makes it refuse senders
(a 451, as a server in trouble does)."""

from __future__ import annotations

import base64
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    data: bytes
    user: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class FakeSmtp:
    user: str = "mailer"
    password: str = "s3cret-pass"
    reject_mail_from: bool = False
    received: list[ReceivedMail] = field(default_factory=list)
    port: int = 0

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        """The mails received, once there are ``count`` (mail leaves on a worker thread)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the fake SMTP server got {len(self.received)} of {count}")
            time.sleep(0.02)
        return self.received


def _handler(fake: FakeSmtp) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def read(self) -> str:
            return self.rfile.readline(4096).decode("utf-8", "replace").rstrip("\r\n")

        def handle(self) -> None:
            self.reply("220 fake-smtp ESMTP ready")
            user: str | None = None
            sender: str | None = None
            recipients: list[str] = []
            while True:
                raw = self.rfile.readline(4096)
                if not raw:  # the client hung up
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb, _, rest = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    self.reply("250-fake-smtp")
                    self.reply("250-AUTH PLAIN LOGIN")
                    self.reply("250 8BITMIME")
                elif verb == "HELO":
                    self.reply("250 fake-smtp")
                elif verb == "AUTH":
                    user = self.authenticate(rest)
                    if user is None:
                        self.reply("535 5.7.8 Authentication credentials invalid")
                    else:
                        self.reply("235 2.7.0 Authentication successful")
                elif verb == "MAIL":
                    if fake.reject_mail_from:
                        self.reply("451 4.3.0 Try again later")
                        continue
                    sender, recipients = rest.split(":", 1)[1].strip().strip("<>"), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(rest.split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    fake.received.append(
                        ReceivedMail(sender or "", recipients, self.read_data(), user)
                    )
                    self.reply("250 OK: queued")
                elif verb in ("RSET", "NOOP"):
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 5.5.2 Command not recognised")

        def authenticate(self, rest: str) -> str | None:
            mechanism, _, initial = rest.partition(" ")
            if mechanism.upper() == "PLAIN":
                if not initial:
                    self.reply("334 ")
                    initial = self.read()
                _, name, secret = base64.b64decode(initial).decode().split("\0")
            elif mechanism.upper() == "LOGIN":
                self.reply("334 " + base64.b64encode(b"Username:").decode())
                name = base64.b64decode(self.read()).decode()
                self.reply("334 " + base64.b64encode(b"Password:").decode())
                secret = base64.b64decode(self.read()).decode()
            else:
                return None
            return name if (name, secret) == (fake.user, fake.password) else None

        def read_data(self) -> bytes:
            lines = []
            while True:
                raw = self.rfile.readline(1 << 20)
                if raw in (b".\r\n", b".\n", b""):
                    return b"".join(lines)
                lines.append(raw[1:] if raw.startswith(b"..") else raw)

    return Handler


@contextmanager
def running_fake_smtp(**options: object) -> Iterator[FakeSmtp]:
    fake = FakeSmtp(**options)  # type: ignore[arg-type]
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
