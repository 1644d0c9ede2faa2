"""The portal in a real browser (Debian's Chromium through Playwright), served by uvicorn on
the whole stack: a reviewer answers from a mail, the Office starts a cycle, an auditor exports.

The browser resolves `portal.test` (the public URL the mail links carry) to the portal's port,
so it opens exactly the links that arrived by mail.
"""

from __future__ import annotations

import asyncio
import contextvars
import csv
import io
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from prefect.client.schemas.objects import StateType
from sqlalchemy import select

from duyet.settings import PROJECT_ROOT
from flows.control import Draft, start_cycle
from records.engine import session_scope
from records.models import Decision, DocumentVersion
from tests.flows.helpers import deliver, stage_of, text_of
from tests.portal.factories import PASSWORD, add_account, free_line
from tests.portal.test_stack import LINK
from tests.prefect_server import free_port, prefect_env, stop
from tests.stack import Stack, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1280, "height": 900}


def off_loop(work: Callable[..., T], *args: object) -> T:
    """Run `work` in a helper thread: Playwright's sync API keeps an event loop running in this
    one, so asyncio.run (Prefect calls, mail delivery) cannot; Prefect's settings go along."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(context.run, work, *args).result()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def portal_port(stack: Stack) -> Iterator[int]:
    """`uvicorn portal.app:served --factory` on a free loopback port, on the stack."""
    port = free_port()
    env = {**prefect_env(stack.server.home, stack.server.api_url), **stack.env}
    command = [sys.executable, "-m", "uvicorn", "portal.app:served", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with (stack.server.home / "portal.log").open("ab") as log:
        process = subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{port}"), timeout=60, what="the portal")
        yield port
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser(portal_port: int) -> Iterator[Browser]:
    mapping = f"--host-resolver-rules=MAP portal.test 127.0.0.1:{portal_port}"
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, mapping])
        yield found
        found.close()


def new_page(browser: Browser, viewport: ViewportSize) -> Page:
    context = browser.new_context(viewport=viewport, accept_downloads=True, locale="vi-VN")
    context.set_default_timeout(20_000)
    return context.new_page()


def open_in_review(stack: Stack, code: str, draft: bytes) -> str:
    """Start a cycle with a draft (as the CLI would) and wait until its run waits for reviews."""
    off_loop(asyncio.run, free_line(stack.settings, code))
    attached = Draft(draft, "du-thao.txt", "text/plain")
    cycle_id: str
    cycle_id, run_id = off_loop(
        asyncio.run,
        start_cycle(
            stack.settings, plan_id=stack.plan.id, code=code, actor="office", draft=attached
        ),
    )
    wait_for(lambda: stage_of(stack.settings, cycle_id)[:2] == ("review", 1), timeout=90, what=code)
    off_loop(stack.wait_state, run_id, StateType.PAUSED)
    return cycle_id


def sign_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_a_reviewer_opens_the_mailed_link_reads_approves_and_gets_a_receipt(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    code = "7.2"
    cycle_id = open_in_review(stack, code, "Báo cáo kết quả kiểm tra\nNội dung chính.\n".encode())
    off_loop(deliver, stack.settings)
    requests = stack.mail.of_cycle(cycle_id, "review_request")
    (url,) = {f"http://portal.test/r/{t}" for t in LINK.findall(text_of(requests[0]))}
    with session_scope(stack.settings.database_url) as session:
        sha = session.scalars(
            select(DocumentVersion.sha256).where(DocumentVersion.cycle_id == cycle_id)
        ).one()
    page = new_page(browser, PHONE)
    page.goto(url)
    expect(page.locator("h1")).to_contain_text(f"{code} — ")
    expect(page.locator("#sha256")).to_have_text(sha)
    expect(page.locator("#document")).to_contain_text("Báo cáo kết quả kiểm tra")
    page.screenshot(path=str(tmp_path / "reviewer-link.png"), full_page=True)
    page.fill("#person", "Lê Thị Hoa")
    page.fill("#comment", "Thống nhất với dự thảo.")
    page.get_by_role("button", name="Đồng ý", exact=True).click()
    expect(page.locator("h1")).to_have_text("Đã ghi nhận")
    expect(page.locator("#receipt")).to_have_text(re.compile(r"^BN-\d{4}-\d{6}$"))
    expect(page.locator("body")).to_contain_text(sha)
    page.screenshot(path=str(tmp_path / "reviewer-receipt.png"), full_page=True)
    with session_scope(stack.settings.database_url) as session:
        decision = session.scalars(select(Decision).where(Decision.cycle_id == cycle_id)).one()
    assert (decision.verdict, decision.reviewer_person) == ("approve", "Lê Thị Hoa")
    assert "HeadlessChrome" in (decision.user_agent or "")
    assert decision.client_ip == "127.0.0.1"
    page.goto(url)  # the link again: used, shows the decision
    expect(page.locator("h1")).to_have_text("Đường dẫn đã được sử dụng")
    page.context.close()


def test_the_office_logs_in_starts_a_cycle_and_sees_it_move(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    code = "2.2.d"
    off_loop(asyncio.run, free_line(stack.settings, code))
    add_account(stack.settings, "vp-trinh-duyet", "office")
    draft = tmp_path / "du-thao-2.2.d.txt"
    draft.write_text("Dự thảo quy trình nội bộ giải quyết thủ tục hành chính\n", encoding="utf-8")
    page = new_page(browser, DESK)
    page.goto("http://portal.test/office")
    expect(page).to_have_url("http://portal.test/login?next=%2Foffice")
    sign_in(page, "vp-trinh-duyet")
    expect(page.locator("h1")).to_contain_text("Cải cách hành chính năm 2023")
    page.select_option("#scope", "line")
    page.select_option("#code", code)
    page.set_input_files("#draft", str(draft))
    page.click("#start")
    expect(page.locator("#notice")).to_have_text(f"Đã mở 1 chu trình: {code}.")
    row = page.locator(f'tr[id="line-{code}"] td.stage')
    deadline = time.monotonic() + 90
    while "Lấy ý kiến" not in row.inner_text() and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()
    expect(row).to_contain_text("Lấy ý kiến, vòng 1")
    page.locator(f'tr[id="line-{code}"]').scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "office-board.png"), full_page=True)
    page.context.close()


def test_an_auditor_reads_a_line_history_and_exports_it(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    code = "2.2.e"
    cycle_id = open_in_review(stack, code, b"Du thao 2.2.e")
    add_account(stack.settings, "kiem-toan-vien", "auditor")
    page = new_page(browser, DESK)
    page.goto("http://portal.test/login")
    sign_in(page, "kiem-toan-vien")
    expect(page.locator("#chain")).to_contain_text("Chuỗi nhật ký toàn vẹn")
    page.click(f'a[href="/audit/lines/{code}?plan={stack.plan.id}"]')
    expect(page.locator("h1")).to_contain_text(code)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Mở chu trình")
    expect(timeline).to_contain_text("Prefect: Running")
    expect(timeline).to_contain_text("Prefect: Suspended")
    expect(page.locator(".warn")).to_have_count(0)  # Prefect answered
    page.screenshot(path=str(tmp_path / "auditor-line.png"), full_page=True)
    with page.expect_download() as download_csv:
        page.click("#export-csv")
    saved = tmp_path / download_csv.value.suggested_filename
    download_csv.value.save_as(saved)
    assert saved.name == f"nhat-ky-{stack.plan.id}-{code}.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows and all(cycle_id in r["payload"] or code in r["payload"] for r in rows)
    assert {"cycle.opened", "version.submitted", "link.issued"} <= {r["action"] for r in rows}
    with page.expect_download() as download_xlsx:
        page.click("#export-xlsx")
    workbook = tmp_path / "export.xlsx"
    download_xlsx.value.save_as(workbook)
    book = load_workbook(workbook, read_only=True)
    assert book.active is not None
    seqs = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    book.close()
    assert seqs == [int(r["seq"]) for r in rows]
    page.context.close()
