"""Read the plan's administrative parts around its table: number, place and date, title, issuer,
reporting dates, recipients and signer (Decree 30/2020/NĐ-CP layout)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from definitions.findings import Finding
from definitions.plan import ReportingDate, Signer
from definitions.sources import Paragraph
from definitions.text import fold

_NUMBER = re.compile(r"^số\s*:\s*(?P<number>.*)$", re.IGNORECASE)
_PLACE_DATE = re.compile(
    r"^(?P<place>[^,]{2,60}),\s*ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4})",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\bnăm\s+(\d{4})\b", re.IGNORECASE)
_ISSUER_IN_TITLE = re.compile(r"\bcủa\s+((?:Sở|Ủy ban|Uỷ ban|UBND|Bộ|Ban|Phòng|Cục)\b.*)$")
_REPORTING = re.compile(
    r"(?P<period>quý\s+(?:IV|III|II|I)|6\s+tháng|9\s+tháng|(?:báo\s+cáo\s+)?năm)\s*"
    r"\(\s*(?:trước\s+)?(?:ngày\s+)?(?P<d>\d{1,2})/(?P<m>\d{1,2})\s*\)",
    re.IGNORECASE,
)
_NATIONAL_MOTTO = ("cộng hòa xã hội chủ nghĩa việt nam", "cộng hoà xã hội chủ nghĩa việt nam")
_SIGNER_POSITIONS = ("giám đốc", "phó giám đốc", "kt. giám đốc", "tm.", "kt.", "q. giám đốc")


@dataclass
class Header:
    title: str | None = None
    kind: str | None = None
    issuer: str | None = None
    number: str | None = None
    place: str | None = None
    date: dt.date | None = None
    date_line: int | None = None
    year: int | None = None
    year_line: int | None = None  # where the year was read
    reporting_dates: list[ReportingDate] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signer: Signer | None = None
    findings: list[Finding] = field(default_factory=list)


def read_header(before: list[Paragraph], after: list[Paragraph], *, kind_names: set[str]) -> Header:
    """Header fields from the paragraphs before the table and the closing ones after it."""
    header = Header()
    upper_lines: list[str] = []
    title_line: int | None = None
    for index, paragraph in enumerate(before):
        text = paragraph.text
        folded = fold(text)
        if (match := _NUMBER.match(text)) is not None:
            header.number = match.group("number").strip() or None
            if header.number is None or header.number.startswith("/"):
                header.findings.append(Finding(code="number-unassigned", line=paragraph.line))
        elif (match := _PLACE_DATE.match(text)) is not None:
            _read_place_date(header, match, paragraph.line)
        elif header.kind is None and folded in kind_names:
            header.kind = text
            following = before[index + 1 :]
            if following and header.title is None:
                header.title, title_line = following[0].text, following[0].line
        elif text.isupper() and header.number is None and folded not in _NATIONAL_MOTTO:
            upper_lines.append(text)
    if upper_lines:
        header.issuer = upper_lines[-1]
    elif header.title and (match := _ISSUER_IN_TITLE.search(header.title)) is not None:
        header.issuer = match.group(1).rstrip(" .")
    year_sources = [(header.title or "", title_line), *((p.text, p.line) for p in before)]
    for text, line in year_sources:
        if (match := _YEAR.search(text)) is not None:
            header.year, header.year_line = int(match.group(1)), line
            break
    if header.year is None and header.date is not None:
        header.year, header.year_line = header.date.year, header.date_line
    if header.year is not None:
        _read_closing(header, after, header.year)
    return header


def _read_place_date(header: Header, match: re.Match[str], line: int) -> None:
    header.place = match.group("place").strip()
    year = int(match.group("y"))
    if match.group("d") and match.group("m"):
        try:
            header.date = dt.date(year, int(match.group("m")), int(match.group("d")))
            header.date_line = line
            return
        except ValueError:
            pass
    header.findings.append(Finding(code="date-incomplete", params={"year": year}, line=line))


def _read_closing(header: Header, after: list[Paragraph], year: int) -> None:
    in_recipients = False
    tail: list[Paragraph] = []
    for paragraph in after:
        text = paragraph.text
        for match in _REPORTING.finditer(text):
            period = re.sub(r"^báo\s+cáo\s+", "", match.group("period"), flags=re.IGNORECASE)
            period = period[:1].upper() + period[1:]
            try:
                due = dt.date(year, int(match.group("m")), int(match.group("d")))
            except ValueError:
                continue
            header.reporting_dates.append(ReportingDate(period=period, due=due))
        if fold(text).startswith("nơi nhận"):
            in_recipients = True
            continue
        if in_recipients and text.startswith(("-", "–", "+")):
            header.recipients.append(text.lstrip("-–+ ").rstrip(" ;.,"))
            continue
        if in_recipients:
            tail.append(paragraph)
    positions = [
        p.text for p in tail if fold(p.text).startswith(_SIGNER_POSITIONS) and p.text.isupper()
    ]
    names = [p.text for p in tail if not p.text.isupper()]
    if positions and names:
        header.signer = Signer(position=" / ".join(positions), name=names[-1])
