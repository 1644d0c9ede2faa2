"""The live part of `duyet demo`: a cycle played over real HTTP and real mail.

The Office opens a cycle for a seed line with a draft; then each unit reads its mail in the
dev mail sink, opens the link (GET) and posts its answer to the portal, as a person would.
"""

from __future__ import annotations

import asyncio
import email
import mailbox
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from rich.console import Console

from duyet.messages import DEMO
from duyet.up import Stack
from flows.control import Draft, start_cycle, view_of
from notifications.devsink import inbox_dir

DEMO_DRAFT = "Dự thảo kế hoạch rà soát thủ tục hành chính năm 2023 (vòng 1)."
LINK = re.compile(r"https?://[^\s<>\"']+/r/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


class _Csrf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf" and self.value is None:
            self.value = found.get("value")


@dataclass
class Player:
    stack: Stack
    console: Console
    cycle_id: str = ""
    seen: set[str] | None = None

    def wait(self, probe: Callable[[], bool], what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        with self.console.status(what):
            while not probe():
                if time.monotonic() > deadline:
                    raise TimeoutError(what)
                time.sleep(0.5)

    def at(self, stage: str, round: int) -> bool:
        view = view_of(self.stack.settings, self.cycle_id)
        return (view.stage, view.round) == (stage, round)

    def reach(self, stage: str, round: int) -> None:
        self.wait(
            lambda: self.at(stage, round), DEMO["waiting-stage"].format(stage=stage, round=round)
        )

    def mail(self, kind: str) -> list[EmailMessage]:
        """New mail of this cycle and kind in the sink."""
        root = inbox_dir(self.stack.settings)
        if not root.exists():
            return []
        box = mailbox.Maildir(root, create=False)
        found = []
        for key in sorted(box.iterkeys()):
            parsed = email.message_from_bytes(box.get_bytes(key), policy=default)
            assert isinstance(parsed, EmailMessage)
            if parsed["X-Duyet-Cycle"] == self.cycle_id and parsed["X-Duyet-Kind"] == kind:
                found.append(parsed)
        return found

    def wait_mail(self, kind: str, count: int) -> list[EmailMessage]:
        self.wait(lambda: len(self.mail(kind)) >= count, DEMO["waiting-mail"].format(kind=kind))
        return self.mail(kind)

    def respond(self, message: EmailMessage, decision: str, **fields: str) -> None:
        """Open the mail's link (GET), then post the answer with the page's CSRF field."""
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        url = LINK.findall(str(body.get_content()))[0]
        with httpx.Client(timeout=30) as client:
            page = client.get(url)
            parser = _Csrf()
            parser.feed(page.text)
            data = {"csrf": parser.value or "", "decision": decision, **fields}
            files = (
                {"document": ("", b"", "application/octet-stream")}
                if decision == "submit"
                else None
            )
            answer = client.post(url, data=data, files=files)
        self.console.print(
            DEMO["http"].format(
                to=message["To"], get=page.status_code, decision=decision, post=answer.status_code
            )
        )
        answer.raise_for_status()


def play(stack: Stack, console: Console, *, plan_id: str, code: str) -> str:
    """Run one cycle of `code` to publication; return its cycle id."""
    player = Player(stack, console)
    draft = Draft(
        "Dự thảo kế hoạch rà soát TTHC năm 2023 (vòng 1)".encode(), "du-thao.txt", "text/plain"
    )
    with temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}):
        cycle_id, run_id = asyncio.run(
            start_cycle(
                stack.settings, plan_id=plan_id, code=code, actor="demo:office", draft=draft
            )
        )
    player.cycle_id = cycle_id
    console.print(DEMO["opened"].format(code=code, cycle=cycle_id, run=run_id))
    reviews = player.wait_mail("review_request", 3)
    player.respond(reviews[0], "approve", comment="Đồng ý với dự thảo.")
    player.respond(reviews[1], "request_changes", comment="Đề nghị bổ sung lộ trình rà soát.")
    player.reach("draft", 2)
    back = player.wait_mail("changes_requested", 1)
    player.respond(back[-1], "submit", text="Dự thảo vòng 2: đã bổ sung lộ trình rà soát theo quý.")
    player.wait(
        lambda: player.at("review", 2), DEMO["waiting-stage"].format(stage="review", round=2)
    )
    round_two = [m for m in player.wait_mail("review_request", 6) if "vòng 2" in str(m["Subject"])]
    for message in round_two:
        player.respond(message, "approve", comment="Đồng ý.")
    player.wait(
        lambda: player.at("approval", 2), DEMO["waiting-stage"].format(stage="approval", round=2)
    )
    board = player.wait_mail("approval_request", 1)
    player.respond(board[-1], "approve", comment="Đồng ý ban hành.")
    player.wait(
        lambda: view_of(stack.settings, cycle_id).status == "published", DEMO["waiting-publication"]
    )
    player.wait_mail("published", 1)
    return cycle_id


def run_states(stack: Stack, run_id: str) -> list[str]:
    async def read() -> list[str]:
        async with get_client() as client:
            states = await client.read_flow_run_states(UUID(run_id))
        return [str(s.name) for s in states]

    with temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}):
        return asyncio.run(read())


def check_published(stack: Stack, console: Console) -> bool:
    """Fetch the register's feed and the signed PDF over HTTP, as another body would, and check
    the signature against the issuing body's CA and the file against the register."""
    from xml.etree import ElementTree

    from publishing.signing import verify_pdf

    atom = "{http://www.w3.org/2005/Atom}"
    feed = httpx.get(f"{stack.portal_url}/van-ban/feed.atom", timeout=10)
    entry = ElementTree.fromstring(feed.content).find(f"{atom}entry")
    if entry is None:
        console.print(DEMO["no-register"], style="red")
        return False
    links = {link.get("rel"): link.get("href") or "" for link in entry.findall(f"{atom}link")}
    local = links["enclosure"].replace(stack.settings.require_public_base_url(), stack.portal_url)
    pdf = httpx.get(local, timeout=10).content
    roots = sorted((stack.settings.var_dir / "keys").glob("*/ca.pem"))
    verification = verify_pdf(pdf, trust_roots=list(roots))
    listed = verification.sha256 in (entry.findtext(f"{atom}summary") or "")
    ok = verification.ok and listed
    console.print(
        DEMO["published"].format(
            title=entry.findtext(f"{atom}title"),
            url=links["alternate"],
            verdict=DEMO["signature-ok" if ok else "signature-bad"],
        )
    )
    return ok
