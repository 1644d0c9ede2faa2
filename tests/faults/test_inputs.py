"""Bad input at the edges: what the lead unit uploads through its draft link (too large, the
wrong type, a zip bomb, hostile file names, HTML with scripts) and mutated plan documents fed to
`duyet plan import`. Refused input changes nothing; accepted input is stored and shown inert.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import re
import time
import tracemalloc
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docx
import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from definitions.loader import load_plan
from definitions.stage_rules import Stage
from duyet.cli import app as cli
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from portal.app import create_app
from records.cycles import advance_stage
from records.documents import versions_of_cycle
from records.engine import session_scope
from records.migrate import upgrade
from records.models import DocumentBlob
from tasks.mail import queue_requests
from tests.factories import SEED, docx_from_text
from tests.faults.ledger import Ledger, Row, counts
from tests.portal.asgi import app_client
from tests.portal.conftest import with_prefect
from tests.portal.factories import add_account, csrf_in, open_at, sign_in, token_of_mail

LINE = "2.1.a"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BOUNDARY = "duyetBoundary7MA4YWxkTrZu0gW"


# --- the portal's draft link ----------------------------------------------------------------


def figures(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        blobs = int(session.scalar(select(func.count()).select_from(DocumentBlob)) or 0)
    return counts(url) | {"blobs": blobs}


@contextmanager
def portal(settings: Settings) -> Iterator[httpx.Client]:
    with app_client(with_prefect(create_app(settings), None)) as client:
        yield client


def multipart(csrf: str, filename: bytes, content: bytes, media_type: str) -> bytes:
    """The form of the draft page, file name byte for byte (httpx would percent-encode it)."""
    head = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name="
    return b"".join(
        [
            f'{head}"csrf"\r\n\r\n{csrf}\r\n'.encode(),
            f'{head}"decision"\r\n\r\nsubmit\r\n'.encode(),
            f'{head}"document"; filename="'.encode(),
            filename,
            f'"\r\nContent-Type: {media_type}\r\n\r\n'.encode(),
            content,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )


def opened(client: httpx.Client, token: str) -> str:
    """The lead unit opens its draft link (written to the audit chain); the form's CSRF token."""
    return csrf_in(client.get(f"/r/{token}"))


def send(
    client: httpx.Client,
    token: str,
    csrf: str,
    filename: str | bytes,
    content: bytes,
    media_type: str,
) -> httpx.Response:
    """The draft page's form sent with this file."""
    name = filename.encode() if isinstance(filename, str) else filename
    body = multipart(csrf, name, content, media_type)
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    return client.post(f"/r/{token}", content=body, headers=headers)


def advance(settings: Settings, cycle_id: str, target: Stage, *, next_round: bool = False) -> str:
    """What the flow does next (to `target`, in the next round if asked), its requests queued;
    the first request's link."""
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    with session_scope(settings.database_url) as session:
        advance_stage(
            session,
            cycle_id=cycle_id,
            target=target,
            actor="t",
            stage_deadline=defs.deadline(defs.today(now), 10),
            round_change=1 if next_round else 0,
        )
        view = evaluate(session, defs, cycle_id=cycle_id, now=now)
        mails = queue_requests(session, settings, defs, view, now=now)
        return token_of_mail(session, settings, mails[0])


def to_review(settings: Settings, cycle_id: str) -> str:
    return advance(settings, cycle_id, Stage.REVIEW)


def stored_names(settings: Settings, cycle_id: str) -> list[str]:
    with session_scope(settings.database_url) as session:
        return [v.filename for v in versions_of_cycle(session, cycle_id=cycle_id)]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def small_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def send_chunked(client: httpx.Client, token: str, csrf: str, content: bytes) -> httpx.Response:
    """The same form with no Content-Length: the body arrives in 64 KiB chunks."""
    body = multipart(csrf, b"du-thao.txt", content, "text/plain")
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    return client.post(f"/r/{token}", content=chunks, headers=headers)


def test_oversized_draft_is_refused(settings: Settings, ledger: Ledger) -> None:
    limit = 256 * 1024
    limited = settings.model_copy(update={"max_document_bytes": limit})
    url = limited.database_url
    token = open_at(limited, LINE, Stage.DRAFT).first
    with portal(limited) as client:
        csrf = opened(client, token)
        before = figures(url)
        just_over = send(client, token, csrf, "du-thao.txt", b"a" * (limit + 1), "text/plain")
        far_over = send(client, token, csrf, "du-thao.txt", b"b" * (8 * limit), "text/plain")
        chunked = send_chunked(client, token, csrf, b"d" * (8 * limit))
        refused = figures(url)
        at_limit = send(client, token, csrf, "du-thao.txt", b"c" * limit, "text/plain")
        after = figures(url)
    for page in (just_over, far_over, chunked):
        assert page.status_code == 413, page.text[-600:]
        assert f"vượt giới hạn {limit} byte" in page.text and "Traceback" not in page.text
    assert refused == before
    assert at_limit.status_code == 200, at_limit.text[-600:]
    assert after["versions"] == before["versions"] + 1
    ledger.record(
        Row(
            scenario="A draft larger than DUYET_MAX_DOCUMENT_BYTES",
            injected=(
                "POST /r/{token}: limit + 1 byte, then 8 × limit, declared and chunked "
                "(limit 256 KiB)"
            ),
            before=before,
            after=after,
            observed=(
                "413 page in Vietnamese naming the limit, nothing stored, link unused; "
                "a file of exactly the limit was then accepted through the same link"
            ),
            extra={"limit": limit, "refused": "413/413/413", "at_limit": at_limit.status_code},
        )
    )


MZ = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + bytes(48)
    + b"This program cannot be run"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
WRONG_TYPES = [
    ("setup.exe", MZ, "application/x-msdownload"),  # what Windows browsers declare
    ("setup.exe", MZ, "application/octet-stream"),
    ("setup.exe", MZ, "text/plain"),  # a lying declaration: the extension decides
    ("du-thao.txt.exe", MZ, "text/plain"),
    ("anh-chup.png", PNG, "image/png"),
    ("anh-chup.png", PNG, "text/plain"),
    ("du-thao.txt.gz", b"\x1f\x8b\x08\x00" + bytes(16), "text/plain"),
]


def test_wrong_types_are_refused(settings: Settings, ledger: Ledger) -> None:
    url = settings.database_url
    token = open_at(settings, LINE, Stage.DRAFT).first
    with portal(settings) as client:
        csrf = opened(client, token)
        before = figures(url)
        pages = [send(client, token, csrf, *upload) for upload in WRONG_TYPES]
        refused = figures(url)
        accepted = send(client, token, csrf, "du-thao.txt", "Dự thảo.\n".encode(), "text/plain")
        after = figures(url)
    for (name, _, declared), page in zip(WRONG_TYPES, pages, strict=True):
        assert page.status_code == 415, (name, declared, page.text[-600:])
        assert "Không nhận loại tệp" in page.text and "Traceback" not in page.text
    assert refused == before
    assert accepted.status_code == 200 and after["versions"] == before["versions"] + 1
    ledger.record(
        Row(
            scenario="Programs and images sent as a draft, some with a lying media type",
            injected=f"{len(WRONG_TYPES)} uploads: .exe, .png, .txt.gz, declared truly or as text",
            before=before,
            after=after,
            observed=(
                "every one 415 in Vietnamese (the file name's extension wins over the declared "
                "type); nothing stored; the same link then took a .txt draft"
            ),
            extra={"refused": len(pages), "accepted_after": accepted.status_code},
        )
    )


def zip_bomb(inflated: int, *, lying: bool) -> bytes:
    """A .docx whose word/document.xml deflates from ~1/1000 of `inflated` bytes; `lying`: its
    headers declare 200 bytes (and the CRC of those), the stream still inflates to the full size.
    """
    with zipfile.ZipFile(io.BytesIO(small_docx("Dự thảo."))) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    head = b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
    head += b'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in parts.items():
            if name != "word/document.xml":
                package.writestr(name, content)
        with package.open("word/document.xml", "w", force_zip64=False) as member:
            member.write(head)
            chunk = b"A" * (1024 * 1024)
            for _ in range(inflated // len(chunk)):
                member.write(chunk)
    data = bytearray(buffer.getvalue())
    if lying:
        _declare(data, "word/document.xml", (head + b"A" * 200)[:200])
    return bytes(data)


def _declare(data: bytearray, name: str, prefix: bytes) -> None:
    """Rewrite a member's CRC and uncompressed size, in its local and central headers."""
    crc, size = zlib.crc32(prefix), len(prefix)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        local = package.getinfo(name).header_offset
    data[local + 14 : local + 18] = crc.to_bytes(4, "little")
    data[local + 22 : local + 26] = size.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02", local + 30)
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 16 : central + 20] = crc.to_bytes(4, "little")
    data[central + 24 : central + 28] = size.to_bytes(4, "little")


def test_zip_bomb_docx_is_never_inflated(settings: Settings, ledger: Ledger) -> None:
    inflated = 128 * 1024 * 1024
    bombs = {"honest": zip_bomb(inflated, lying=False), "lying": zip_bomb(inflated, lying=True)}
    url = settings.database_url
    before = figures(url)
    peaks: dict[str, int] = {}
    with portal(settings) as client:
        for (kind, bomb), code in zip(bombs.items(), (LINE, "1.2"), strict=True):
            cycle = open_at(settings, code, Stage.DRAFT)
            csrf = opened(client, cycle.first)
            stored = send(client, cycle.first, csrf, f"du-thao-{kind}.docx", bomb, DOCX)
            assert stored.status_code == 200, stored.text[-600:]
            review = to_review(settings, cycle.cycle_id)
            tracemalloc.start()
            try:
                shown = client.get(f"/r/{review}")
                peaks[kind] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert shown.status_code == 200, shown.text[-600:]
            assert "không hiển thị được trên trang" in shown.text  # no text: the original only
            original = client.get(f"/r/{review}/document")
            assert original.content == bomb  # served as uploaded, never inflated
    after = figures(url)
    assert max(peaks.values()) < 32 * 1024 * 1024, peaks
    assert after["versions"] == before["versions"] + 2
    ledger.record(
        Row(
            scenario="A .docx zip bomb uploaded as a draft, then shown to a reviewer",
            injected=(
                "word/document.xml deflating to 128 MiB (~130 KiB file); once with true "
                "headers, once with headers declaring 200 bytes"
            ),
            before=before,
            after=after,
            observed=(
                "stored as sent; the review page says it cannot show the text and offers the "
                "original; the bomb is never inflated (bounded reads, 48 MiB cap)"
            ),
            extra={
                "file_bytes": len(bombs["honest"]),
                "peak_mib_honest": round(peaks["honest"] / 2**20, 1),
                "peak_mib_lying": round(peaks["lying"] / 2**20, 1),
            },
        )
    )


# (file name as sent, as stored; a number: refused with this status)
NAMES: list[tuple[bytes, str | int]] = [
    (b"../../etc/passwd.txt", "passwd.txt"),
    (b"..\\..\\x.docx", "x.docx"),
    (b"/var/lib/duyet/duyet.db.txt", "duyet.db.txt"),
    (b"bao\x00cao.txt", "bao cao.txt"),
    (b"dong\nmoi.txt", "dong moi.txt"),
    (b'x"; filename="evil.txt', "evil.txt"),  # the form parser keeps the last filename=
    ("hoa-don\u202etxt.exe".encode(), 415),  # right-to-left override: looks like "…exe.txt"
    (b"..", "tai-lieu"),
    (b"dong\rmoi.txt", 400),  # a bare CR ends the part's header: malformed form
]


def test_hostile_file_names_are_labels_only(settings: Settings, ledger: Ledger) -> None:
    url = settings.database_url
    codes = ["2.1.a", "1.2", "1.3", "1.4.a", "1.4.b", "1.4.c", "3.1", "3.2", "3.4"]
    content = small_docx("Dự thảo.")
    before, files_before = figures(url), files_under(settings.var_dir)
    with portal(settings) as client:
        for (sent, expected), code in zip(NAMES, codes, strict=True):
            cycle = open_at(settings, code, Stage.DRAFT)
            declared = DOCX if sent.endswith(b".docx") else "text/plain"
            body = content if declared == DOCX else "Dự thảo.\n".encode()
            page = send(client, cycle.first, opened(client, cycle.first), sent, body, declared)
            names = stored_names(settings, cycle.cycle_id)
            if isinstance(expected, int):
                assert page.status_code == expected, (sent, page.text[-600:])
                assert names == []
                continue
            assert page.status_code == 200, (sent, page.text[-600:])
            (name,) = names
            assert name == expected, (sent, name)
            assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in name)
            assert "/" not in name and "\\" not in name and not name.startswith(".")
            download = client.get(f"/r/{to_review(settings, cycle.cycle_id)}/document")
            disposition = download.headers["content-disposition"]
            assert disposition.startswith("attachment; filename=")
            assert not re.search(r"[\x00-\x1f\x7f/\\]", disposition), disposition
            assert download.headers["x-content-type-options"] == "nosniff"
    after = figures(url)
    assert files_under(settings.var_dir) == files_before  # a file name never becomes a path
    assert not Path("/etc/passwd.txt").exists()
    accepted = sum(isinstance(expected, str) for _, expected in NAMES)
    assert after["versions"] == before["versions"] + accepted
    ledger.record(
        Row(
            scenario="Path traversal and control characters in an uploaded file's name",
            injected=(
                "../../etc/passwd.txt, ..\\..\\x.docx, absolute path, NUL, LF, CR, quote "
                "injection, U+202E, '..' as file names"
            ),
            before=before,
            after=after,
            observed=(
                "names kept as labels: last segment only, control characters made spaces, "
                "invisible ones dropped; download always attachment + nosniff, header clean; "
                "U+202E hiding .exe: 415; bare CR: 400; no file written anywhere"
            ),
            extra={"names": len(NAMES), "stored": accepted},
        )
    )


SCRIPT = (
    b'<script>alert("xss")</script>\n'
    b"<img src=x onerror=alert(1)>\n"
    b'</div><svg onload="alert(2)"></svg>\n'
    b"<iframe src=javascript:alert(3)></iframe>\n"
)
LIVE = re.compile(r"<\s*/?\s*(script|img|svg|iframe)\b", re.IGNORECASE)


def assert_inert(page: httpx.Response) -> None:
    assert page.status_code == 200, page.text[-600:]
    assert not LIVE.search(page.text), LIVE.search(page.text)
    assert "&lt;script&gt;" in page.text  # shown, as text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_html_in_a_draft_never_runs(settings: Settings, ledger: Ledger) -> None:
    url = settings.database_url
    first = b"Du thao vong 1\nDong hai\n"
    cycle = open_at(settings, LINE, Stage.REVIEW, versions=(first,)).cycle_id
    round_2 = advance(settings, cycle, Stage.DRAFT, next_round=True)  # changes were asked for
    markdown = open_at(settings, "1.2", Stage.DRAFT)
    with portal(settings) as client:
        csrf, csrf_md = opened(client, round_2), opened(client, markdown.first)
        before = figures(url)
        html = send(client, round_2, csrf, "trang.html", SCRIPT, "text/html")
        html_as_text = send(client, round_2, csrf, "trang.htm", SCRIPT, "text/plain")
        refused = figures(url)
        text = send(client, round_2, csrf, "vong-2.txt", first + SCRIPT, "text/plain")
        md = send(client, markdown.first, csrf_md, "du-thao.md", SCRIPT, "text/markdown")
        review_text = to_review(settings, cycle)
        review_md = to_review(settings, markdown.cycle_id)
        text_page, md_page = client.get(f"/r/{review_text}"), client.get(f"/r/{review_md}")
        downloads = [client.get(f"/r/{t}/document") for t in (review_text, review_md)]
        add_account(settings, "thanhtra", "auditor")
        sign_in(client, "thanhtra")
        history = client.get(f"/audit/lines/{LINE}")
        after = figures(url)
    assert html.status_code == 415 and html_as_text.status_code == 415
    assert refused == before
    assert text.status_code == 200 and md.status_code == 200
    assert_inert(text_page)
    assert text_page.text.count("&lt;script&gt;") >= 2  # the document and the diff
    assert_inert(md_page)
    assert_inert(history)
    for download, media_type in zip(downloads, ("text/plain", "text/markdown"), strict=True):
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-type"].startswith(media_type)
    ledger.record(
        Row(
            scenario="HTML with <script>, <img onerror>, <svg onload> uploaded as a draft",
            injected=".html (text/html), .htm declared text/plain, .txt and .md with the markup",
            before=before,
            after=after,
            observed=(
                ".html/.htm: 415; .txt/.md stored; link page, diff and the auditors' history "
                "show it escaped (no live tag, CSP default-src 'none'); downloads are "
                "attachments with nosniff and their text type"
            ),
            extra={"refused": 2, "stored": 2, "pages_checked": 3, "downloads_checked": 2},
        )
    )


# --- `duyet plan import` on mutated plans ---------------------------------------------------

runner = CliRunner()
SEED_LINES = SEED.read_text(encoding="utf-8").splitlines()
LINE_NUMBER = re.compile(r"dòng \d+")
GARBAGE = st.sampled_from(
    [
        "\t",
        "\t\t\t",
        "\x00",
        "\x0b",
        "\x1c",
        "\x7f",
        "\u0085",
        "\u2028",
        "\ufeff",
        "\u202e",
        "\udcff",  # a lone surrogate: the file is not UTF-8 any more
        "[/]",
        "[bold]",
        "năm 0000",
        "năm 9999",
        "ngày 31 tháng 2 năm 2023",
        "Tháng 13",
        "Quý V",
        "32/12",
        "1.1",
        "a",
        "đ",
        "Stt\tNội dung",
        "Nơi nhận:",
    ]
) | st.text(max_size=6)
EDIT = st.tuples(
    st.sampled_from(["delete", "duplicate", "swap", "cut", "insert", "truncate", "drop-cell"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    GARBAGE,
)


def mutate(lines: list[str], edits: list[tuple[str, int, int, str]]) -> list[str]:
    lines = list(lines)
    for kind, a, b, garbage in edits:
        if not lines:
            break
        i, j = a % len(lines), b % len(lines)
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "cut":
            lines[i] = lines[i][: b % (len(lines[i]) + 1)]
        elif kind == "insert":
            at = b % (len(lines[i]) + 1)
            lines[i] = lines[i][:at] + garbage + lines[i][at:]
        elif kind == "truncate":
            lines = lines[: i + 1]
        elif (cells := lines[i].split("\t")) and len(cells) > 1:  # drop-cell
            del cells[b % len(cells)]
            lines[i] = "\t".join(cells)
    return lines


class Importer:
    """`duyet plan import FILE -o OUT` through the real CLI, each outcome checked and tallied."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database_url = f"sqlite:///{root / 'records.db'}"
        upgrade(self.database_url)
        self.env = {
            "DUYET_DATABASE_URL": self.database_url,
            "DUYET_VAR_DIR": str(root / "var"),
            "COLUMNS": "400",  # one line per message: the file name is never wrapped
        }
        self.tally: Counter[str] = Counter()
        self.cases = itertools.count()

    def check(self, data: bytes, suffix: str) -> Result:
        folder = self.root / f"case-{next(self.cases)}"
        folder.mkdir()
        source, out = folder / f"ke-hoach{suffix}", folder / "out" / "plan.yaml"
        source.write_bytes(data)
        result = runner.invoke(cli, ["plan", "import", str(source), "-o", str(out)], env=self.env)
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert result.exit_code in (0, 2), result.output
        written = sorted(p.name for p in out.parent.glob("*")) if out.parent.exists() else []
        if result.exit_code == 0:
            assert written == ["plan.yaml"]  # and no temporary file left beside it
            assert load_plan(out).lines
            self.tally["imported"] += 1
        else:
            assert written == [], written  # nothing half-written
            said = " ".join(result.output.split())
            assert source.name in said or LINE_NUMBER.search(said), said
            self.tally["refused"] += 1
        return result


def fuzz_row(kind: str, importer: Importer, seconds: float) -> Row:
    figures = counts(importer.database_url)
    return Row(
        scenario=f"duyet plan import on mutated {kind} (hypothesis, derandomized)",
        injected=(
            "lines deleted, duplicated, swapped, cut, truncated; cells dropped; tabs, control "
            "characters, markup, impossible dates inserted"
            if kind == "text plans"
            else "table rows dropped or repeated, cell texts replaced; random bytes over the "
            "zip, cut short; one part corrupted or left out"
        ),
        before={key: 0 for key in figures},
        after=figures,
        observed=(
            "every run exit 0 with complete YAML that loads, or exit 2 with one Vietnamese line "
            "naming the file or the line; no traceback, no partial file"
        ),
        extra=dict(importer.tally) | {"seconds": round(seconds, 1)},
    )


def test_plan_import_fuzz_on_text(tmp_path: Path, ledger: Ledger) -> None:
    importer = Importer(tmp_path)
    started = time.monotonic()

    @hypothesis_settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(st.lists(EDIT, min_size=1, max_size=8))
    def import_mutated(edits: list[tuple[str, int, int, str]]) -> None:
        text = "\n".join(mutate(SEED_LINES, edits))
        importer.check(text.encode("utf-8", "surrogateescape"), ".txt")

    import_mutated()
    assert importer.tally["imported"] and importer.tally["refused"]
    ledger.record(fuzz_row("text plans", importer, time.monotonic() - started))


@functools.cache
def seed_parts() -> dict[str, bytes]:
    """The parts of the seed plan laid out as a .docx (built once: python-docx takes seconds)."""
    data = docx_from_text("\n".join(SEED_LINES), join_continuations=True)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


BYTES = st.binary(min_size=1, max_size=8) | st.sampled_from(
    [b"<", b"</w:t>", b"<w:tc>", b"&", b"\xff\xfe", b"\x00", b"<!DOCTYPE x [<!ENTITY a 'b'>]>"]
)
OVERWRITES = st.lists(st.tuples(st.integers(0, 10**7), BYTES), min_size=1, max_size=5)
TABLE_EDIT = st.tuples(
    st.sampled_from(["drop-row", "repeat-row", "blank-text", "set-text"]),
    st.integers(0, 10**6),
    GARBAGE,
)
# How to spoil the seed's .docx, drawn small (a recipe, not the bytes) so a failure prints
# short: its table edited as Word would keep it (rows dropped or repeated, texts blanked or
# replaced); random bytes over the zip itself, cut at some length; one part of a sound zip
# corrupted or left out.
TABLE_EDITS = st.tuples(st.just("table"), st.lists(TABLE_EDIT, min_size=1, max_size=6))
SPOILS = st.one_of(
    st.tuples(st.just("zip-bytes"), OVERWRITES, st.integers(40, 10**6)),
    st.tuples(st.just("part"), st.integers(0, 100), st.booleans(), OVERWRITES),
)
ROW = re.compile(rb"<w:tr[ >].*?</w:tr>", re.DOTALL)
TEXT = re.compile(rb"<w:t(?: [^>]*)?>(.*?)</w:t>", re.DOTALL)
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # Word can't


def overwrite(data: bytes, overwrites: list[tuple[int, bytes]]) -> bytes:
    spoilt = bytearray(data)
    for at, chunk in overwrites:
        start = at % (len(spoilt) + 1)
        spoilt[start : start + len(chunk)] = chunk
    return bytes(spoilt)


def edit_table(xml: bytes, edits: list[tuple[str, int, str]]) -> bytes:
    for kind, at, garbage in edits:
        found = list((ROW if kind.endswith("row") else TEXT).finditer(xml))
        if not found:
            continue
        hit = found[at % len(found)]
        if kind == "drop-row":
            xml = xml[: hit.start()] + xml[hit.end() :]
        elif kind == "repeat-row":
            xml = xml[: hit.end()] + hit.group(0) + xml[hit.end() :]
        else:
            text = b"" if kind == "blank-text" else escape(NOT_IN_XML.sub("", garbage)).encode()
            xml = xml[: hit.start(1)] + text + xml[hit.end(1) :]
    return xml


def zipped(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in parts.items():
            package.writestr(name, content)
    return buffer.getvalue()


def spoilt_docx(recipe: tuple[Any, ...]) -> bytes:
    parts = dict(seed_parts())
    if recipe[0] == "table":
        document = "word/document.xml"
        return zipped(parts | {document: edit_table(parts[document], recipe[1])})
    if recipe[0] == "zip-bytes":
        _, overwrites, length = recipe
        return overwrite(zipped(parts), overwrites)[:length]
    _, index, left_out, overwrites = recipe
    name = sorted(parts)[index % len(parts)]
    if left_out:
        del parts[name]
    else:
        parts[name] = overwrite(parts[name], overwrites)
    return zipped(parts)


def test_plan_import_fuzz_on_docx(tmp_path: Path, ledger: Ledger) -> None:
    importer = Importer(tmp_path)
    started = time.monotonic()

    once = hypothesis_settings(max_examples=15, deadline=None, derandomize=True, database=None)

    @once
    @given(TABLE_EDITS)
    def import_edited(recipe: tuple[Any, ...]) -> None:
        importer.check(spoilt_docx(recipe), ".docx")

    @once
    @given(SPOILS)
    def import_spoilt(recipe: tuple[Any, ...]) -> None:
        importer.check(spoilt_docx(recipe), ".docx")

    import_edited()
    import_spoilt()
    assert importer.tally["imported"] and importer.tally["refused"]
    ledger.record(fuzz_row(".docx plans", importer, time.monotonic() - started))


# Crashes the fuzzing found, kept as plain examples (each was a traceback before the fix).
def _year_0000() -> bytes:
    return "\n".join(SEED_LINES).replace("năm 2023", "năm 0000").encode()


def _duplicated_line() -> bytes:
    index = next(i for i, line in enumerate(SEED_LINES) if line.startswith("1.2\t"))
    return "\n".join(SEED_LINES[: index + 1] + SEED_LINES[index:]).encode()


def _markup_in_a_title() -> bytes:
    return "\n".join(SEED_LINES).replace("Rà soát VBQPPL", "Rà soát [/] [b]VBQPPL").encode()


def _broken_xml_part() -> bytes:
    return zipped(seed_parts() | {"word/styles.xml": b""})


def _merged_header_row_lost() -> bytes:
    return spoilt_docx(("table", [("drop-row", 0, "")]))  # a vMerge "continue" on top


@pytest.mark.parametrize(
    ("build", "suffix", "exit_code", "said"),
    [
        (_year_0000, ".txt", 2, "Năm 0000 ở dòng 9 của ke-hoach.txt"),
        (_duplicated_line, ".txt", 2, "Mục 1.2 ở dòng 46 trùng mã với dòng 45"),
        (_markup_in_a_title, ".txt", 0, "Rà soát [/] [b]VBQPPL"),
        (_broken_xml_part, ".docx", 2, "Không đọc được tệp Word ke-hoach.docx"),
        (_merged_header_row_lost, ".docx", 2, "Không đọc được tệp Word ke-hoach.docx"),
    ],
    ids=["year-0000", "duplicated-line", "markup-in-a-title", "broken-xml-part", "merge-on-top"],
)
def test_plan_import_regressions(
    tmp_path: Path, build: Callable[[], bytes], suffix: str, exit_code: int, said: str
) -> None:
    result = Importer(tmp_path).check(build(), suffix)
    assert result.exit_code == exit_code
    assert said in " ".join(result.output.split())
