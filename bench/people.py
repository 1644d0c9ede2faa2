"""Acting as the people of a cycle over HTTP, as a browser would: read the mail, open its link
(GET), post the page's form with its CSRF field."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bench.sink import Arrival

LINK = re.compile(r"https?://[^\s<>\"']+/r/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# A stage that asks for a report (the legal process's appraisal) gets this one.
REPORT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANSWERED_KINDS = {"draft_request", "changes_requested", "review_request", "approval_request"}


def link_in(arrival: Arrival) -> str | None:
    """The link of a request mail (its plain-text part), if it has one."""
    body = arrival.message.get_body(preferencelist=("plain",))
    if body is None:
        return None
    found = LINK.findall(str(body.get_content()))
    return found[0] if found else None


@dataclass(frozen=True)
class Form:
    url: str
    status: int
    csrf: str = ""
    draft: bool = False
    needs_report: bool = False


@dataclass(frozen=True)
class Posted:
    status: int
    seconds: float


async def open_form(client: httpx.AsyncClient, url: str) -> Form:
    """GET the link's page and read its form."""
    page = await client.get(url)
    found = CSRF.search(page.text)
    if page.status_code != 200 or found is None:
        return Form(url, page.status_code)
    return Form(
        url,
        200,
        csrf=found.group(1),
        draft='name="text"' in page.text,
        needs_report='id="attachment-file"' in page.text,
    )


async def post_answer(client: httpx.AsyncClient, form: Form, decision: str = "approve") -> Posted:
    """POST the form: a new draft at a draft stage, `decision` elsewhere; timed."""
    data: dict[str, Any] = {"csrf": form.csrf, "person": "Bench"}
    files = None
    if form.draft:
        data |= {"decision": "submit", "text": f"Dự thảo {uuid.uuid4().hex[:8]}: nội dung."}
        files = {"document": ("", b"", "application/octet-stream")}
    else:
        data |= {"decision": decision, "comment": "Đồng ý."}
        if form.needs_report:
            files = {"document": ("bao-cao-tham-dinh.pdf", REPORT_PDF, "application/pdf")}
    started = time.perf_counter()
    answer = await client.post(form.url, data=data, files=files)
    return Posted(answer.status_code, time.perf_counter() - started)
