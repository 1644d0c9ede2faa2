"""Auditors' pages: a line's history, chain verification, exports; nothing they do changes state."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select

from definitions.stage_rules import Stage
from duyet.settings import Settings
from records.engine import make_engine, session_scope
from records.models import DocumentVersion
from tests.portal.asgi import app_client
from tests.portal.conftest import with_prefect
from tests.portal.factories import add_account, csrf_in, open_at, sign_in, snapshot
from tests.records.factories import tamper

LINE = "2.1.a"


@pytest.fixture
def history(settings: Settings, client: httpx.Client) -> str:
    """Line 2.1.a in round 2 of review, one unit approved (from 10.1.2.3); returns the cycle."""
    opened = open_at(settings, LINE, Stage.REVIEW, versions=(b"Mot\nHai\n", b"Mot\nHai sua\n"))
    token = opened.links["phong-quan-ly-van-hoa"]
    form = {"csrf": csrf_in(client.get(f"/r/{token}")), "decision": "approve"}
    assert client.post(f"/r/{token}", data=form | {"comment": "Nhất trí."}).status_code == 200
    open_at(settings, "1.2", Stage.REVIEW)  # another line: not in 2.1.a's history
    return opened.cycle_id


@pytest.fixture
def auditor(settings: Settings, client: httpx.Client, history: str) -> httpx.Client:
    add_account(settings, "thanhtra", "auditor")
    assert sign_in(client, "thanhtra").headers["location"] == "/audit"
    return client


def test_the_index_lists_the_lines_and_verifies_the_chain(auditor: httpx.Client) -> None:
    page = auditor.get("/audit")
    assert page.status_code == 200
    assert "Chuỗi nhật ký toàn vẹn" in page.text
    assert page.text.count('href="/audit/lines/') == 44


def test_a_line_shows_one_timeline_versions_with_diffs_and_decisions(
    settings: Settings, auditor: httpx.Client, history: str
) -> None:
    page = auditor.get(f"/audit/lines/{LINE}")
    assert page.status_code == 200
    body = page.text
    assert history in body
    with session_scope(settings.database_url) as session:
        hashes = session.scalars(
            select(DocumentVersion.sha256).where(DocumentVersion.cycle_id == history)
        ).all()
    assert all(sha in body for sha in hashes) and len(hashes) == 2
    assert "<del>Hai</del>" in body and "<ins>Hai sua</ins>" in body
    decisions = body.split('id="decisions"')[1].split("</table>")[0]
    assert "Phòng Quản lý Văn hóa" in decisions and "Nhất trí." in decisions
    assert "10.1.2.3" in decisions and "python-httpx/" in decisions
    timeline = body.split('id="timeline"')[1]
    for action in ("Mở chu trình", "Nộp phiên bản tài liệu", "Cấp đường dẫn", "Ghi nhận ý kiến"):
        assert action in timeline
    assert "Không kết nối được máy chủ Prefect" in body  # none configured: a notice, still 200
    assert auditor.get("/audit/lines/9.9").status_code == 404


def test_an_unreachable_prefect_is_a_notice_not_an_error(
    app: FastAPI, settings: Settings, history: str
) -> None:
    add_account(settings, "thanhtra", "auditor")
    with_prefect(app, "http://127.0.0.1:9/api")  # nothing listens on port 9
    with app_client(app) as client:
        sign_in(client, "thanhtra")
        page = client.get(f"/audit/lines/{LINE}")
    assert page.status_code == 200 and "Không kết nối được máy chủ Prefect" in page.text


@pytest.mark.parametrize("line", [LINE, ""])
def test_exports_in_csv_json_and_xlsx(auditor: httpx.Client, history: str, line: str) -> None:
    query = f"&line={LINE}" if line else ""
    as_csv = auditor.get(f"/audit/export?format=csv{query}")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0] == ["seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash"]
    as_json = auditor.get(f"/audit/export?format=json{query}").json()
    assert [entry["seq"] for entry in as_json] == [int(row[0]) for row in rows[1:]]
    cycles = {entry["payload"].get("line_code") for entry in as_json} - {None}
    assert cycles == ({LINE} if line else {LINE, "1.2"})
    assert any(entry["action"] == "decision.recorded" for entry in as_json)
    as_xlsx = auditor.get(f"/audit/export?format=xlsx{query}")
    book = load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert book.active is not None
    seqs = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    book.close()
    assert seqs == [entry["seq"] for entry in as_json]
    assert auditor.get("/audit/export?format=pdf").status_code == 422


def test_nothing_an_auditor_does_changes_state(
    settings: Settings, auditor: httpx.Client, history: str
) -> None:
    with session_scope(settings.database_url) as session:
        sha = session.scalars(select(DocumentVersion.sha256)).first()
    before = snapshot(settings)
    for path in (
        "/audit",
        f"/audit/lines/{LINE}",
        "/audit/export?format=csv",
        "/audit/export?format=json",
        "/audit/export?format=xlsx",
        f"/audit/documents/{sha}",
    ):
        assert auditor.get(path).status_code == 200, path
    assert snapshot(settings) == before
    for path in ("/office/start", "/office/resend", "/office/cancel"):
        form = {"csrf": csrf_in(auditor.get("/audit"))}
        assert auditor.post(path, data=form).status_code == 403  # not the Office
    assert snapshot(settings) == before


def test_a_tampered_chain_is_shown_as_broken(
    settings: Settings, auditor: httpx.Client, history: str
) -> None:
    engine = make_engine(settings.database_url)
    try:
        tamper(engine, "UPDATE audit_events SET actor = 'ai-do' WHERE seq = 3")
    finally:
        engine.dispose()
    page = auditor.get(f"/audit/lines/{LINE}")
    assert page.status_code == 200 and "Chuỗi bị phá vỡ tại seq 3" in page.text
    assert auditor.get("/audit/export?format=json").status_code == 200
