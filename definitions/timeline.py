"""The time words of a plan line ("Thời gian") as deadlines, milestones and recurrence.

A small grammar: normalize the cell, cut it into tokens by an ordered table of patterns, give
yearless tokens the year written nearest after them (or before), then fold the tokens.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from definitions.findings import Finding


class Recurrence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


class Timeline(BaseModel):
    """What a "Thời gian" cell says: a final deadline, and how the work is spread in time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    due: date | None
    start: date | None = None
    milestones: list[date] = []
    recurrence: Recurrence | None = None
    ongoing: bool = False


_MONTHS = dict(zip(Recurrence, (1, 3, 6, 12), strict=True))  # months between two deadlines
_EVERY_N_MONTHS = {months: rec for rec, months in _MONTHS.items()}
_TIMES_A_YEAR = {12 // months: rec for rec, months in _MONTHS.items()}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def period_end(year: int, month: int) -> date:
    """Last day of `month` in `year`."""
    return date(year, month, calendar.monthrange(year, month)[1])


def recurrence_deadlines(recurrence: Recurrence, year: int) -> list[date]:
    """Every period end of `recurrence` inside `year`, in order."""
    step = _MONTHS[recurrence]
    return [period_end(year, month) for month in range(step, 13, step)]


_Kind = Literal[
    "period", "num", "rec", "ongoing", "year", "from", "to", "join", "periodic", "nodate", "noise",
    "unknown",
]  # fmt: skip


@dataclass
class _Tok:
    kind: _Kind
    text: str
    year: int | None = None
    months: tuple[int, int] = (0, 0)  # first and last month of a period
    day: int = 0  # when the period is a single day of its month
    ranged: bool = False  # the period names a span of work ("Quý I-III"), not only a deadline
    unit: str = ""
    rec: Recurrence | None = None  # the recurrence, or for "6 tháng" the cadence it stands for

    def bounds(self, year: int) -> tuple[date, date]:
        first, last = self.months
        if self.day:
            return (date(year, first, self.day),) * 2
        if first > last:  # "Quý III - I"
            raise ValueError("a period cannot end before it starts")
        return date(year, first, 1), period_end(year, last)


_Maker = Callable[[re.Match[str]], _Tok]


def _group(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name)


def _year(m: re.Match[str]) -> int | None:
    written = _group(m, "y")
    return int(written) if written else None


def _word(kind: _Kind, rec: Recurrence | None = None, months: tuple[int, int] = (0, 0)) -> _Maker:
    return lambda m: _Tok(kind, m[0], _year(m), months, rec=rec)


def _quarter(m: re.Match[str]) -> _Tok:
    last = _group(m, "b")
    q1, q2 = (_ROMAN.get(q.lower()) or int(q) for q in (m["a"], last or m["a"]))
    return _Tok("period", m[0], _year(m), (3 * q1 - 2, 3 * q2), ranged=last is not None)


def _month(kind: _Kind) -> _Maker:
    def make(m: re.Match[str]) -> _Tok:
        last = _group(m, "b")
        months = (int(m["a"]), int(last or m["a"]))
        return _Tok(kind, m[0], _year(m), months, ranged=last is not None, unit="month")

    return make


def _months_span(m: re.Match[str]) -> _Tok:
    # "6 tháng cuối năm" is work in the second half; "6 tháng (đầu năm)" is a report as of 30/6.
    n, where = int(m["n"]), (_group(m, "w") or "").lower()
    if where == "cuối":
        return _Tok("period", m[0], _year(m), (13 - n, 12), ranged=True)
    hint = None if where else _EVERY_N_MONTHS.get(n)
    return _Tok("period", m[0], _year(m), (1, n), rec=hint)


def _day(m: re.Match[str]) -> _Tok:
    return _Tok("period", m[0], _year(m), (int(m["m"]),) * 2, day=int(m["d"]))


def _per(table: dict[int, Recurrence]) -> _Maker:
    def make(m: re.Match[str]) -> _Tok:
        rec = table.get(int(m["n"]))
        return _Tok("rec", m[0], _year(m), rec=rec) if rec else _Tok("unknown", m[0])

    return make


def _cadence(m: re.Match[str]) -> _Tok:
    unit = m["c"].lower()
    rec = {"tháng": Recurrence.MONTHLY, "năm": Recurrence.ANNUAL}.get(unit, Recurrence.QUARTERLY)
    return _Tok("rec", m[0], _year(m), rec=rec)


# After _normalize there is one space between words and none around "/" or "-".
_N = r"\d{1,2}"
_Q = r"(?:iv|i{1,3}|[1-4])"
_QUY = r"q(?:u[ýí]|úy)"
_Y = r"(?:[/.-]| năm )(?P<y>\d{4})"
_YEAR_AFTER = r"(?: (?:năm )?(?P<y>\d{4}))?"
# First match wins at each position, so longer phrases come before their parts.
_TABLE: list[tuple[str, _Maker]] = [
    (rf"(?P<n>{_N}) tháng ?(?:/|một |1 )lần", _per(_EVERY_N_MONTHS)),
    (rf"(?P<n>{_N}) (?:đợt|lần) ?(?:/|trong |mỗi |một |1 )?năm{_YEAR_AFTER}", _per(_TIMES_A_YEAR)),
    (rf"(?:h[àằ]ng|mỗi|các) (?P<c>tháng|{_QUY}|năm){_YEAR_AFTER}", _cadence),
    (r"(?:(?:cả|trong) )?năm (?P<y>\d{4})", _word("ongoing", months=(1, 12))),
    (r"(?:cả|trong) năm|thường xuyên|h[àằ]ng (?:ngày|tuần)|liên tục", _word("ongoing")),
    (rf"ngày (?P<d>{_N}) tháng (?P<m>{_N})(?:{_Y})?", _day),
    (rf"{_QUY} ?(?P<a>{_Q})(?:-(?:{_QUY} ?)?(?P<b>{_Q})(?!\w))?(?:{_Y})?", _quarter),
    (rf"tháng ?(?P<a>{_N})(?:-(?:tháng ?)?(?P<b>{_N})(?!\w))?(?:{_Y})?", _month("period")),
    (rf"(?P<n>{_N}) tháng(?: (?P<w>đầu|cuối) năm)?{_YEAR_AFTER}", _months_span),
    (rf"(?:hết|cuối) năm{_YEAR_AFTER}", lambda m: _Tok("period", m[0], _year(m), (1, 12))),
    (rf"(?P<d>{_N})[/.-](?P<m>{_N})(?:{_Y})?", _day),
    (rf"(?P<a>{_N}){_Y}", _month("period")),  # "6/2024"
    (rf"{_QUY}(?! ?[ivx\d]+(?!\w))", _word("rec", Recurrence.QUARTERLY)),  # not "Quý V"
    (r"năm", _word("rec", Recurrence.ANNUAL)),
    (rf"(?P<a>iv|i{{1,3}})(?:{_Y})?", _quarter),  # "Quý I, II và IV": the quarters of a list
    (rf"(?P<a>{_N})(?:{_Y})?", _month("num")),  # "Tháng 3, 6 và 9": months of a list
    (r"(?P<y>\d{4})", _word("year")),
    (r"từ", _word("from")),
    (r"đến|tới|-", _word("to")),
    (r"và|[,;+&]", _word("join")),
    (r"định k[ỳì]", _word("periodic")),
    (r"theo|khi|t(?:ùy|uỳ)|đột xuất", _word("nodate")),
    (
        r"kế hoạch|kh|báo cáo|bc|thực hiện|triển khai|cập nhật|chậm nhất|trước|ngày|tháng"
        r"|hạn chót|hạn|vào|hết|cuối|trong|dự kiến|nếu có|[.:()/]",
        _word("noise"),
    ),
    (r"\w+|\S", _word("unknown")),
]
# A pattern ends at a word's end, or after punctuation: "kh" must not eat the start of "khi".
_RULES = [(re.compile(rf"(?:{p})(?:(?<!\w)|(?!\w))", re.IGNORECASE), make) for p, make in _TABLE]


def _normalize(text: str) -> str:
    dashed = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return re.sub(r" ?([/-]) ?", r"\1", dashed)


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        m, make = next((m, make) for rx, make in _RULES if (m := rx.match(text, pos)))
        tokens.append(make(m))
        pos = m.end()
    return tokens


def _drop_references(tokens: list[_Tok]) -> list[_Tok]:
    # "Theo KH số 15/KH-UBND ngày 10/01/2023": the dates of a reference are not deadlines.
    kept: list[_Tok] = []
    for tok in tokens:
        if kept and kept[-1].kind == "nodate" and tok.kind != "join":
            continue
        kept.append(tok)
    return kept


def _assign_years(tokens: list[_Tok], plan_year: int) -> list[int]:
    written = [tok.year for tok in tokens]
    years = []
    for i, year in enumerate(written):
        later = next((y for y in written[i + 1 :] if y is not None), None)
        earlier = next((y for y in reversed(written[:i]) if y is not None), None)
        years.append(year or later or earlier or plan_year)
    return years


@dataclass
class _Span:
    start: date
    end: date
    ranged: bool
    after_from: bool
    hint: Recurrence | None


@dataclass
class _Reading:
    """What the tokens of one cell have said so far."""

    plan_year: int
    spans: list[_Span] = field(default_factory=list)
    recs: list[tuple[Recurrence, int]] = field(default_factory=list)
    ongoing_years: list[int] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # of every date read, for year-mismatch
    ignored: list[str] = field(default_factory=list)
    nodate: bool = False
    periodic: bool = False
    after_from: bool = False
    pending_to: bool = False
    last_unit: str = ""

    def read(self, tok: _Tok, year: int) -> None:
        kind = tok.kind
        if kind == "ongoing" and self.after_from and tok.months[0]:
            kind = "period"  # "Từ năm 2022": a start, not a year of work
        if kind == "num":
            kind = "period" if self.last_unit == "month" else "unknown"
        if kind == "period":
            try:
                start, end = tok.bounds(year)
            except ValueError:  # "Tháng 13", "31/2": keep the rest of the cell
                self.ignored.append(tok.text)
                return
            if self.pending_to and self.spans[-1].start <= end:  # "Tháng 3 đến tháng 6"
                first = self.spans.pop()
                self.spans.append(_Span(first.start, end, True, first.after_from, None))
            else:
                self.spans.append(_Span(start, end, tok.ranged, self.after_from, tok.rec))
            self.years.append(year)
            self.last_unit, self.after_from, self.pending_to = tok.unit, False, False
        elif kind == "rec" and tok.rec:
            self.recs.append((tok.rec, year))
            self.years.append(year)
        elif kind == "ongoing":
            self.ongoing_years.append(year)
            self.years.append(year)
        elif kind == "from":
            self.after_from = True
        elif kind == "to":
            self.pending_to = bool(self.spans)
        elif kind == "periodic":
            self.periodic = True
        elif kind == "nodate":
            self.nodate = True
        elif kind == "unknown":
            self.ignored.append(tok.text)

    def timeline(self, text: str) -> Timeline:
        # "Từ quý I/2022" alone: work that started then and goes on through the plan year.
        open_ended = [s for s in self.spans if s.after_from and not s.ranged]
        deadlines = {s.end for s in self.spans if s not in open_ended}
        ongoing = self.ongoing_years + [max(self.plan_year, s.start.year) for s in open_ended]
        recs = self.recs
        if recs or self.periodic:  # "Các quý, 6 tháng, năm": each report period is a cadence
            recs = recs + [(s.hint, s.end.year) for s in self.spans if s.hint]
        recurrence = min((r for r, _ in recs), key=_MONTHS.__getitem__, default=None)
        for rec, year in recs:
            deadlines.update(recurrence_deadlines(rec, year))
        deadlines.update(date(year, 12, 31) for year in ongoing)
        ordered = sorted(deadlines)
        return Timeline(
            text=text,
            due=ordered[-1] if ordered else None,
            start=min((s.start for s in self.spans if s.ranged or s.after_from), default=None),
            milestones=ordered if recurrence or len(ordered) > 1 else [],
            recurrence=recurrence,
            ongoing=bool(ongoing),
        )

    def findings(self, text: str) -> list[Finding]:
        if not self.years:
            code = "no-date" if self.nodate else "unparsed-time"
            return [Finding(code=code, params={"text": text})]
        findings = [
            Finding(
                code="year-mismatch", params={"year": y, "plan_year": self.plan_year, "text": text}
            )
            for y in dict.fromkeys(self.years)
            if y != self.plan_year
        ]
        if self.ignored:
            params = {"words": " ".join(self.ignored), "text": text}
            findings.append(Finding(code="ignored-time-words", params=params))
        return findings


def parse_timeline(text: str, *, plan_year: int) -> tuple[Timeline, list[Finding]]:
    """Read a "Thời gian" cell of a plan of `plan_year`; say what could not be read."""
    clean = " ".join(unicodedata.normalize("NFC", text).split())
    if not clean:
        return Timeline(text=clean, due=None), [Finding(code="no-time")]
    tokens = _drop_references(_tokenize(_normalize(clean)))
    reading = _Reading(plan_year)
    for tok, year in zip(tokens, _assign_years(tokens, plan_year), strict=True):
        reading.read(tok, year)
    return reading.timeline(clean), reading.findings(clean)
