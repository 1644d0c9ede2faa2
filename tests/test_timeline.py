import unicodedata
from collections.abc import Iterable
from datetime import date
from itertools import product

import pytest
from pydantic import ValidationError

from definitions.timeline import (
    Recurrence,
    Timeline,
    parse_timeline,
    period_end,
    recurrence_deadlines,
)
from duyet.messages import FINDINGS

M = Recurrence.MONTHLY
Q = Recurrence.QUARTERLY
S = Recurrence.SEMIANNUAL
A = Recurrence.ANNUAL

QUARTER_ENDS = ("03-31", "06-30", "09-30", "12-31")
HALF_ENDS = ("06-30", "12-31")


def ends(year: int, month_days: Iterable[str]) -> list[str]:
    return [f"{year}-{md}" for md in month_days]


def month_ends(year: int) -> list[str]:
    return [period_end(year, m).isoformat() for m in range(1, 13)]


def case(
    text: str,
    due: str | None,
    *,
    year: int = 2023,
    start: str | None = None,
    milestones: Iterable[str] = (),
    rec: Recurrence | None = None,
    ongoing: bool = False,
    codes: Iterable[str] = (),
) -> pytest.ParameterSet:
    expected = {
        "due": date.fromisoformat(due) if due else None,
        "start": date.fromisoformat(start) if start else None,
        "milestones": [date.fromisoformat(d) for d in milestones],
        "recurrence": rec,
        "ongoing": ongoing,
    }
    return pytest.param(text, year, expected, list(codes), id=f"{text}@{year}")


MISMATCH = ["year-mismatch"]
NFD_ONGOING = unicodedata.normalize("NFD", "Cập nhật cả năm")
NFD_QUARTER = unicodedata.normalize("NFD", "Quý II/2023")
CASES = [
    # every time cell of the seed plan (ke-hoach-cchc-2023-svhttdl), plan year 2023
    case("Quý II/2023", "2023-06-30"),
    case("Tháng 01/2022", "2022-01-31", codes=MISMATCH),
    case("Quý I/2022", "2022-03-31", codes=MISMATCH),
    case("Thực hiện từ Quý I/2022", "2023-12-31", start="2022-01-01", ongoing=True, codes=MISMATCH),
    case("Theo KH được Giám đốc Sở phê duyệt", None, codes=["no-date"]),
    case("Theo KH\n\n được Giám đốc Sở phê duyệt", None, codes=["no-date"]),  # as extracted
    case("Hàng tháng", "2023-12-31", milestones=month_ends(2023), rec=M),
    case(
        "KH tháng quý I/2023 và báo cáo tháng 11/2023",
        "2023-11-30",
        milestones=["2023-03-31", "2023-11-30"],
    ),
    case("Cập nhật cả năm", "2023-12-31", ongoing=True),
    case("Tháng 01/2023", "2023-01-31"),
    case("Quý II", "2023-06-30"),
    case("Quý I - III", "2023-09-30", start="2023-01-01"),
    case("Cả năm", "2023-12-31", ongoing=True),
    case("", None, codes=["no-time"]),
    case("Quý IV", "2023-12-31"),
    case("02 đợt trong năm", "2023-12-31", milestones=ends(2023, HALF_ENDS), rec=S),
    case("Tháng 1/2022", "2022-01-31", codes=MISMATCH),
    case("Tháng 2/2023", "2023-02-28"),
    case("Thường xuyên", "2023-12-31", ongoing=True),
    case("Các quý, 6 tháng, năm", "2023-12-31", milestones=ends(2023, QUARTER_ENDS), rec=Q),
    case("6 tháng và năm", "2023-12-31", milestones=ends(2023, HALF_ENDS), rec=S),
    case("Từ quý III-IV", "2023-12-31", start="2023-07-01"),
    # the other words of DOMAIN.md and of the clerks, in other plan years too
    case("Quý I – III/2024", "2024-09-30", year=2024, start="2024-01-01"),
    case("Quý I — III", "2025-09-30", year=2025, start="2025-01-01"),
    case("6 tháng đầu năm", "2023-06-30"),
    case("6 tháng cuối năm", "2023-12-31", start="2023-07-01"),
    case("9 tháng", "2024-09-30", year=2024),
    case("Trước ngày 15/3/2024", "2024-03-15", year=2024),
    case("Trước ngày 15/3/2024", "2024-03-15", codes=MISMATCH),
    case("Trước 30/9", "2023-09-30"),
    case("Chậm nhất ngày 20/10", "2025-10-20", year=2025),
    case("Ngày 05/3", "2023-03-05"),
    case("Trước 29/02/2024", "2024-02-29", year=2024),
    case("15-03-2025", "2025-03-15", year=2025),
    case("ngày 15 tháng 3 năm 2024", "2024-03-15", year=2024),
    case("Năm 2023", "2023-12-31", ongoing=True),
    case("Năm 2023", "2023-12-31", year=2024, ongoing=True, codes=MISMATCH),
    case("Trong năm", "2025-12-31", year=2025, ongoing=True),
    case("Hàng ngày", "2023-12-31", ongoing=True),
    case("Thực hiện từ Quý I/2022", "2022-12-31", year=2022, start="2022-01-01", ongoing=True),
    case("Từ tháng 3 đến tháng 6", "2024-06-30", year=2024, start="2024-03-01"),
    case("Từ tháng 7", "2023-12-31", start="2023-07-01", ongoing=True),
    case("Từ năm 2022", "2023-12-31", start="2022-01-01", ongoing=True, codes=MISMATCH),
    case("Từ tháng 6 đến hết năm", "2023-12-31", start="2023-06-01"),
    case("Hàng quý", "2024-12-31", year=2024, milestones=ends(2024, QUARTER_ENDS), rec=Q),
    case("Định kỳ hàng quý", "2023-12-31", milestones=ends(2023, QUARTER_ENDS), rec=Q),
    case(
        "Hằng quý năm 2024",
        "2024-12-31",
        milestones=ends(2024, QUARTER_ENDS),
        rec=Q,
        codes=MISMATCH,
    ),
    case("2 đợt/năm", "2025-12-31", year=2025, milestones=ends(2025, HALF_ENDS), rec=S),
    case("6 tháng một lần", "2023-12-31", milestones=ends(2023, HALF_ENDS), rec=S),
    case("Định kỳ 6 tháng", "2023-12-31", milestones=ends(2023, HALF_ENDS), rec=S),
    case("Hàng năm", "2024-12-31", year=2024, milestones=["2024-12-31"], rec=A),
    case("6 tháng, năm", "2023-12-31", milestones=ends(2023, HALF_ENDS), rec=S),
    case("Tháng 6 và tháng 12/2024", "2024-12-31", year=2024, milestones=ends(2024, HALF_ENDS)),
    case(
        "Tháng 6 và tháng 12/2024", "2024-12-31", milestones=ends(2024, HALF_ENDS), codes=MISMATCH
    ),
    case("Quý I và Quý III", "2023-09-30", milestones=["2023-03-31", "2023-09-30"]),
    case(
        "Quý I, II và IV",
        "2025-12-31",
        year=2025,
        milestones=ends(2025, ["03-31", "06-30", "12-31"]),
    ),
    case("Tháng 3, 6, 9 và 12", "2023-12-31", milestones=ends(2023, QUARTER_ENDS)),
    case("Cả năm, báo cáo tháng 6", "2023-12-31", milestones=ends(2023, HALF_ENDS), ongoing=True),
    case("Theo kế hoạch của UBND tỉnh", None, codes=["no-date"]),
    case("Theo KH", None, codes=["no-date"]),
    case("Khi có yêu cầu", None, codes=["no-date"]),
    case("Sau khi hoàn thành", None, codes=["no-date"]),
    case(
        "Theo KH số 15/KH-UBND ngày 10/01/2023", None, codes=["no-date"]
    ),  # a reference, not a deadline
    case("Tháng 6 (theo KH của UBND tỉnh)", "2023-06-30"),
    case("Theo KH; trước 30/6", "2023-06-30"),
    case("Tháng 6 (nếu có)", "2023-06-30"),
    case("Cuối năm", "2025-12-31", year=2025),
    case("Báo cáo", None, codes=["unparsed-time"]),
    case("Giai đoạn 2", None, codes=["unparsed-time"]),
    case("Quý III - I", None, codes=["unparsed-time"]),
    case("Quý V", None, codes=["unparsed-time"]),
    case("Tháng 13/2023", None, codes=["unparsed-time"]),
    case("31/02/2023", None, codes=["unparsed-time"]),
    case("3 đợt trong năm", None, codes=["unparsed-time"]),
    case("Tuần đầu tháng 3", "2023-03-31", codes=["ignored-time-words"]),
    # tolerant spellings: case, spaces, arabic quarters, zeros, dashes, NFD, old orthography
    case("QUÝ 2/2023", "2023-06-30"),
    case("quý  ii / 2023", "2023-06-30"),
    case("Quý 1-3/2024", "2024-09-30", year=2024, start="2024-01-01"),
    case("Quí IV năm 2025", "2025-12-31", year=2025),
    case("tháng 02/2024", "2024-02-29", year=2024),
    case("THÁNG 2/2025", "2025-02-28", year=2025),
    case("Tháng 6", "2024-06-30", year=2024),
    case("Tháng 6-2024", "2024-06-30", year=2024),
    case("Tháng 3 – 6/2023", "2023-06-30", start="2023-03-01"),
    case("  tháng   11 /2023 ", "2023-11-30"),
    case("Trước 5/3/2024", "2024-03-05", year=2024),
    case("Trước ngày 15/3 năm 2024", "2024-03-15", year=2024),
    case("6/2024", "2024-06-30", year=2024),
    case(NFD_ONGOING, "2023-12-31", ongoing=True),
    case(NFD_QUARTER, "2023-06-30"),
    case("CẢ NĂM", "2024-12-31", year=2024, ongoing=True),
    case("HẰNG THÁNG", "2024-12-31", year=2024, milestones=month_ends(2024), rec=M),
]


@pytest.mark.parametrize(("text", "plan_year", "expected", "codes"), CASES)
def test_parse_timeline(
    text: str, plan_year: int, expected: dict[str, object], codes: list[str]
) -> None:
    timeline, findings = parse_timeline(text, plan_year=plan_year)
    assert timeline.model_dump(exclude={"text"}) == expected
    assert [f.code for f in findings] == codes
    assert timeline.text == " ".join(unicodedata.normalize("NFC", text).split())


def test_year_mismatch_names_each_year_once() -> None:
    _, findings = parse_timeline("Tháng 6/2022, tháng 9/2022 và Quý IV/2024", plan_year=2023)
    assert [f.params for f in findings] == [
        {"year": y, "plan_year": 2023, "text": "Tháng 6/2022, tháng 9/2022 và Quý IV/2024"}
        for y in (2022, 2024)
    ]


def test_findings_read_in_vietnamese() -> None:
    texts = ["", "Theo KH", "Tháng 01/2022", "xyz", "Tuần đầu tháng 3"]
    findings = [f for t in texts for f in parse_timeline(t, plan_year=2023)[1]]
    assert {f.code for f in findings} <= FINDINGS.keys()
    assert [f.message for f in findings] == [
        "Không ghi thời gian thực hiện",
        "Thời gian «Theo KH» không xác định được hạn chót",
        "Năm 2022 trong «Tháng 01/2022» khác năm của kế hoạch (2023)",
        "Không hiểu được thời gian «xyz»",
        "Đã bỏ qua «Tuần đầu» khi đọc thời gian «Tuần đầu tháng 3»",
    ]


def test_period_end_and_recurrence_deadlines() -> None:
    assert period_end(2024, 2) == date(2024, 2, 29)
    assert period_end(2100, 2) == date(2100, 2, 28)
    assert recurrence_deadlines(Q, 2025) == [
        date(2025, m, d) for m, d in [(3, 31), (6, 30), (9, 30), (12, 31)]
    ]
    assert [len(recurrence_deadlines(r, 2023)) for r in Recurrence] == [12, 4, 2, 1]


def test_timeline_is_frozen_and_strict() -> None:
    timeline, _ = parse_timeline("Quý II", plan_year=2023)
    with pytest.raises(ValidationError):
        timeline.due = None  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Timeline(text="x", due=None, deadline=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_every_month_and_quarter_spelling(year: int) -> None:
    for month, text in product(
        range(1, 13), ["Tháng {m}/{y}", "tháng {m:02}/{y}", "THÁNG {m} năm {y}"]
    ):
        due = parse_timeline(text.format(m=month, y=year), plan_year=year)[0].due
        assert due == period_end(year, month)
    for q, roman in enumerate(["I", "II", "III", "IV"], start=1):
        for text in (
            f"Quý {roman}/{year}",
            f"quý {q}/{year}",
            f"QUÝ {roman} - {year}",
            f"Quý {roman}",
        ):
            assert parse_timeline(text, plan_year=year)[0].due == period_end(year, 3 * q)


FRAGMENTS = [
    "Quý II/2023",
    "Tháng 01/2022",
    "Thực hiện từ Quý I/2022",
    "Theo KH",
    "Hàng tháng",
    "Cả năm",
    "Quý I - III",
    "02 đợt trong năm",
    "6 tháng",
    "năm",
    "Từ quý III-IV",
    "Trước 30/9",
    "6 tháng cuối năm",
    "Tháng 6 đến tháng 3",
    "Năm 2024",
    "xyz",
]


@pytest.mark.parametrize("plan_year", [2023, 2024])
def test_properties_hold_for_any_combination(plan_year: int) -> None:
    texts = [str(c.values[0]) for c in CASES] + [
        f"{a} và {b}" for a, b in product(FRAGMENTS, repeat=2)
    ]
    for text in texts:
        timeline, findings = parse_timeline(text, plan_year=plan_year)
        if timeline.start is not None:
            assert timeline.due is not None and timeline.start <= timeline.due, text
        if timeline.milestones:
            assert timeline.milestones == sorted(set(timeline.milestones)), text
            assert timeline.due == max(timeline.milestones), text
        if timeline.recurrence is not None:
            assert timeline.milestones, text
        assert (timeline.due is None) == any(
            f.code in {"no-time", "no-date", "unparsed-time"} for f in findings
        ), text
