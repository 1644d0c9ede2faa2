"""The dev mail sink: a local SMTP server that keeps every message in a Maildir under
`DUYET_VAR_DIR/dev-mail`, so that one machine can play every role (`/dev/inbox` lists it).

Only with `DUYET_DEV_MAIL=1`, only on loopback, and only while the public base URL is a
loopback one: links in sunk mail must never point at a server other people use.

Run it: `python -m notifications.devsink [--host 127.0.0.1] [--port N]` (default
`DUYET_DEV_MAIL_PORT`), or call `serve_dev_sink(settings, host, port)` (blocks until SIGINT or
SIGTERM).
"""

from __future__ import annotations

import argparse
import email
import ipaddress
import mailbox
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from duyet.settings import Settings, SettingsError, get_settings

KEY = re.compile(r"[A-Za-z0-9._,:=-]{1,200}")
URL = re.compile(r"https?://[^\s<>\"']+")


def inbox_dir(settings: Settings) -> Path:
    return settings.var_dir / "dev-mail"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_dev_mail(settings: Settings) -> None:
    """Refuse the sink (and the dev inbox) unless it is on and every link stays on this machine."""
    if not settings.dev_mail:
        raise SettingsError("DUYET_DEV_MAIL is off: the dev mail sink is not available")
    host = urlsplit(settings.require_public_base_url()).hostname or ""
    if not is_loopback(host):
        raise SettingsError(
            "DUYET_DEV_MAIL=1 needs a loopback DUYET_PUBLIC_BASE_URL (127.0.0.1, localhost, ::1); "
            f"it is {settings.public_base_url}"
        )


class MaildirSink:
    """An aiosmtpd handler that stores each accepted message, as received, in a Maildir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        root.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(root, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        with self.lock:
            mailbox.Maildir(self.root, create=True).add(bytes(raw))
        return "250 Message accepted for delivery"


@contextmanager
def dev_sink(
    settings: Settings, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[Controller]:
    """The sink running in a background thread while the block runs."""
    require_dev_mail(settings)
    port = settings.dev_mail_port if port is None else port
    if not is_loopback(host):
        raise SettingsError(f"the dev mail sink only listens on loopback, not {host}")
    controller = Controller(MaildirSink(inbox_dir(settings)), hostname=host, port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def serve_dev_sink(settings: Settings, host: str = "127.0.0.1", port: int | None = None) -> None:
    """Run the sink until SIGINT or SIGTERM (what `duyet up` starts as a child process)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with dev_sink(settings, host, port):
        stop.wait()


@dataclass(frozen=True)
class DevMail:
    key: str
    sender: str
    to: str
    subject: str
    date: str
    text: str

    @property
    def links(self) -> list[str]:
        return list(dict.fromkeys(URL.findall(self.text)))


def read_inbox(settings: Settings) -> list[DevMail]:
    """Every message in the sink, newest first."""
    root = inbox_dir(settings)
    if not root.exists():
        return []
    box = mailbox.Maildir(root, create=False)
    found = [_parsed(key, box.get_bytes(key)) for key in box.iterkeys()]
    return sorted(found, key=lambda m: (m.date, m.key), reverse=True)


def read_message(settings: Settings, key: str) -> DevMail | None:
    root = inbox_dir(settings)
    if KEY.fullmatch(key) is None or not root.exists():
        return None
    try:
        return _parsed(key, mailbox.Maildir(root, create=False).get_bytes(key))
    except KeyError:
        return None


def _parsed(key: str, raw: bytes) -> DevMail:
    message = email.message_from_bytes(raw, policy=default_policy)
    text = ""
    if isinstance(message, EmailMessage):
        body = message.get_body(preferencelist=("plain", "html"))
        text = str(body.get_content()) if body is not None else ""
    try:
        date = parsedate_to_datetime(str(message["Date"])).isoformat()
    except (TypeError, ValueError):
        date = ""
    return DevMail(
        key=key,
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        date=date,
        text=text,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifications.devsink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: DUYET_DEV_MAIL_PORT")
    args = parser.parse_args(argv)
    serve_dev_sink(get_settings(), args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
