"""`duyet up` as a user runs it: a subprocess, then only HTTP and SMTP, then Ctrl-C.

Nothing of the project is imported here: the stack is driven through the portal's pages and the
mail it sends to a real SMTP server, as the Office and the units would.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.prefect_server import alive, descendants, free_port
from tests.smtp_sink import Recorder, smtp_sink

pytestmark = pytest.mark.slow
DUYET = str(Path(sys.executable).with_name("duyet"))
ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
T = TypeVar("T")


class Csrf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.value = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf" and not self.value:
            self.value = found.get("value") or ""


def csrf_of(html: str) -> str:
    parser = Csrf()
    parser.feed(html)
    assert parser.value, "no CSRF field on the page"
    return parser.value


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def mail_to(recorder: Recorder, address: str, kind: str) -> list[str]:
    """Links in the mail of `kind` that `address` received."""
    found = []
    for message in recorder.to(address):
        if message["X-Duyet-Kind"] == kind:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found += LINK.findall(str(body.get_content()))
    return found


def answer(client: httpx.Client, link: str, decision: str) -> None:
    page = client.get(link)
    assert page.status_code == 200, page.text
    result = client.post(link, data={"csrf": csrf_of(page.text), "decision": decision})
    assert result.status_code == 200, result.text


def test_duyet_up_runs_a_full_cycle_over_http_and_smtp(tmp_path: Path) -> None:
    portal_port, prefect_port = free_port(), free_port()
    with smtp_sink() as (controller, recorder):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DUYET_", "PREFECT_"))},
            "DUYET_VAR_DIR": str(tmp_path / "var"),
            "DUYET_PORTAL_PORT": str(portal_port),
            "DUYET_PREFECT_PORT": str(prefect_port),
            "DUYET_SMTP_HOST": "127.0.0.1",
            "DUYET_SMTP_PORT": str(controller.port),
        }
        subprocess.run(
            [DUYET, "user", "add", "vanphong", "--role", "office", "--password-stdin"],
            input="mat-khau-van-phong-2023\n", text=True, env=env, cwd=ROOT, check=True,
            capture_output=True, timeout=60,
        )  # fmt: skip
        up = subprocess.Popen(
            [DUYET, "up"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        portal = f"http://127.0.0.1:{portal_port}"
        try:
            wait_for(lambda: _healthy(portal), "the portal to be healthy", timeout=180)
            children = descendants(up.pid)
            assert len(children) >= 4  # Prefect server, worker, mail sender, portal
            with httpx.Client(base_url=portal, timeout=30, follow_redirects=True) as office:
                login = office.get("/login")
                signed_in = office.post(
                    "/login",
                    data={
                        "csrf": csrf_of(login.text),
                        "username": "vanphong",
                        "password": "mat-khau-van-phong-2023",
                    },
                )
                assert signed_in.status_code == 200 and "/office" in str(signed_in.url)
                board = office.get("/office")
                started = office.post(
                    "/office/start",
                    data={"csrf": csrf_of(board.text), "scope": "line", "code": "2.1.a"},
                    files={"draft": ("du-thao.txt", "Dự thảo vòng 1".encode(), "text/plain")},
                )
                assert started.status_code == 200
            with httpx.Client(timeout=30) as units:
                reviewers = ["qlvanhoa", "qlthethao", "qldulich"]
                for unit in reviewers:
                    links = wait_for(
                        lambda u=unit: mail_to(recorder, f"{u}@svhttdl.example", "review_request"),
                        f"the review request to {unit}",
                    )
                    answer(units, links[0], "approve")
                board_links = wait_for(
                    lambda: mail_to(recorder, "bangiamdoc@svhttdl.example", "approval_request"),
                    "the approval request",
                )
                answer(units, board_links[0], "approve")
            wait_for(
                lambda: [
                    m for m in recorder.to("vanphong@svhttdl.example")
                    if m["X-Duyet-Kind"] == "published"
                ],
                "the published document",
            )  # fmt: skip
        finally:
            up.send_signal(signal.SIGINT)
            output, _ = up.communicate(timeout=120)
        assert up.returncode == 0, output.decode()
        assert not [pid for pid in children if alive(pid)], "child processes left behind"


def _healthy(portal: str) -> bool:
    try:
        return httpx.get(f"{portal}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_port_in_use_is_a_plain_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DUYET_", "PREFECT_"))},
            "DUYET_VAR_DIR": str(tmp_path / "var"),
            "DUYET_PREFECT_PORT": str(port),
            "DUYET_PORTAL_PORT": str(free_port()),
        }
        result = subprocess.run(
            [DUYET, "up"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"Cổng {port} đang được dùng" in result.stdout and "DUYET_PREFECT_PORT" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
