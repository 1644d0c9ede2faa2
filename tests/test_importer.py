"""The importer on the seed plan, its .docx twin and plans written from DOMAIN.md's rules."""

from __future__ import annotations

import datetime as dt

import pytest

from definitions.importer import import_file, import_plan
from definitions.plan import Plan
from definitions.sources import read_bytes
from definitions.units import UnitDirectory
from tests.factories import DATA, SEED, docx_from_text, seed_text

SEED_CODES = [
    "1.1",
    "1.2",
    "1.3",
    "1.4.a",
    "1.4.b",
    "1.4.c",
    "1.5",
    "1.6",
    "2.1.a",
    "2.1.b",
    "2.1.c",
    "2.2.a",
    "2.2.b",
    "2.2.c",
    "2.2.d",
    "2.2.đ",
    "2.2.e",
    "2.2.g",
    "2.2.h",
    "2.2.i",
    "2.2.k",
    "3.1",
    "3.2",
    "3.4",
    "4.1.a",
    "4.1.b",
    "4.2",
    "4.3.a",
    "4.3.b",
    "5.1",
    "5.2",
    "5.3",
    "6.1",
    "6.2",
    "6.3",
    "6.4",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6",
    "7.7",
    "7.8",
]


@pytest.fixture(scope="module")
def seed(directory: UnitDirectory) -> Plan:
    return import_file(SEED, directory)


def codes(plan: Plan, line_code: str) -> list[str]:
    return [w.code for w in plan.line(line_code).warnings]


def test_seed_has_the_44_leaf_lines_in_order(seed: Plan) -> None:
    assert [line.code for line in seed.lines] == SEED_CODES


def test_seed_header(seed: Plan) -> None:
    assert seed.year == 2023
    assert seed.issuer == "Sở Văn hóa, Thể thao và Du lịch tỉnh Bình Dương"
    assert seed.number == "/KH-SVHTTDL"
    assert seed.place == "Bình Dương"
    assert "Cải cách hành chính năm 2023" in seed.title
    assert [s.code for s in seed.sections] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [g.code for g in seed.groups] == ["1.4", "2.1", "2.2", "4.1", "4.3"]
    assert [(r.period, r.due) for r in seed.reporting_dates] == [
        ("Quý I", dt.date(2023, 3, 5)),
        ("6 tháng", dt.date(2023, 6, 5)),
        ("Quý III", dt.date(2023, 9, 5)),
        ("Năm", dt.date(2023, 12, 5)),
    ]
    assert seed.signer is not None and seed.signer.name == "Nguyễn Khoa Hải"
    assert "Lưu: VT, L" in seed.recipients


def test_continuation_rows_merge_cell_by_cell(seed: Plan) -> None:
    line = seed.line("1.4.b")
    assert line.lead_text == "Thanh tra Sở"
    assert line.partners_text == "Phòng VH và TT; đơn vị trực thuộc"
    assert line.product_text == "KH, Kết luận thanh tra"
    assert line.timeline.text == "Theo KH được Giám đốc Sở phê duyệt"
    assert line.timeline.due is None
    assert "no-date" in codes(seed, "1.4.b")
    assert seed.line("2.2.a").product_text == "Phiếu góp ý trên Website của Công HCC của tỉnh"
    assert seed.line("3.4").partners_text == "Phòng chuyên môn, đơn vị và Phòng VHTT cấp huyện"
    h = seed.line("2.2.h")
    assert h.title.endswith(
        "dịch vụ công trực tuyển trên Hệ thống thông tin giải quyết thủ tục "
        "hành chính của tỉnh, được tích hợp trên Cổng Dịch vụ công quốc gia "
        "và có biểu mẫu điện tử (E-form)."
    )
    assert h.product_text == "Công bố trên bảng điện tử của Hệ thống một cửa điện tử; báo cáo"


def test_seed_deadlines(seed: Plan) -> None:
    assert seed.line("1.1").timeline.due == dt.date(2023, 6, 30)
    assert seed.line("1.5").timeline.milestones == [dt.date(2023, 3, 31), dt.date(2023, 11, 30)]
    assert seed.line("2.1.c").timeline.due == dt.date(2023, 9, 30)
    assert seed.line("7.2").timeline.due == dt.date(2023, 2, 28)
    assert seed.line("4.3.b").timeline.recurrence == "semiannual"
    assert seed.line("1.4.c").timeline.recurrence == "monthly"
    assert len(seed.line("1.4.c").timeline.milestones) == 12
    assert seed.line("7.5").timeline.recurrence == "quarterly"
    assert seed.line("7.8").timeline.due == dt.date(2023, 12, 31)


def test_seed_slips_are_warned_not_fixed(seed: Plan) -> None:
    for code in ("1.2", "1.3", "7.1"):
        assert "year-mismatch" in codes(seed, code)
        assert seed.line(code).timeline.due is not None
        assert seed.line(code).timeline.due.year == 2022
    assert "no-lead" in codes(seed, "4.1.b") and seed.line("4.1.b").lead == []
    assert "no-time" in codes(seed, "2.2.h")
    assert "typo" in codes(seed, "2.2.h")
    assert {"duplicate-unit", "several-leads"} <= set(codes(seed, "2.2.c"))
    missing = [w for w in seed.warnings if w.code == "missing-code"]
    assert [w.params["code"] for w in missing] == ["3.3"]
    assert missing[0].line == 78  # the row of 3.4, where the gap shows


def test_every_seed_unit_resolves_except_citizens(seed: Plan, directory: UnitDirectory) -> None:
    known = {u.id for u in directory.units} | {g.id for g in directory.groups}
    unresolved = [
        (line.code, ref)
        for line in seed.lines
        for ref in line.lead + line.partners
        if ref not in known
    ]
    assert unresolved == [("2.2.a", "Tổ chức, công dân")]
    assert "not-a-unit" in codes(seed, "2.2.a")
    assert not any(w.code == "unresolved-unit" for line in seed.lines for w in line.warnings)
    assert seed.line("1.4.b").partners == ["vhtt-cap-huyen", "don-vi-truc-thuoc"]
    assert seed.line("6.2").partners == ["chuyen-vien-it", "so-tttt"]
    assert seed.line("5.1").lead == ["phong-ke-hoach-tai-chinh"]


@pytest.mark.parametrize("join_continuations", [True, False], ids=["rows-joined", "rows-split"])
def test_docx_imports_to_the_same_lines(
    seed: Plan, directory: UnitDirectory, join_continuations: bool
) -> None:
    data = docx_from_text(seed_text(), join_continuations=join_continuations)
    plan = import_plan(read_bytes(data, name="ke-hoach.docx"), directory)
    assert plan.source.format == "docx"
    fields = {"source_line", "warnings"}
    assert [line.model_dump(exclude=fields) for line in plan.lines] == [
        line.model_dump(exclude=fields) for line in seed.lines
    ]
    assert [[w.code for w in line.warnings] for line in plan.lines] == [
        [w.code for w in line.warnings] for line in seed.lines
    ]
    assert (plan.title, plan.year, plan.issuer) == (seed.title, seed.year, seed.issuer)


def test_another_plan_with_other_words_and_year(directory: UnitDirectory) -> None:
    plan = import_file(DATA / "ke-hoach-ksthc-2024.txt", directory)
    assert plan.year == 2024
    assert plan.number == "12/KH-SVHTTDL"
    assert plan.date == dt.date(2024, 2, 5)
    assert plan.issuer == "Sở Văn hóa, Thể thao và Du lịch tỉnh Bình Dương"
    assert plan.signer is not None and plan.signer.position == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"
    assert [line.code for line in plan.lines] == [
        "1.1",
        "1.2.a",
        "1.2.b",
        "1.2.c",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
    ]
    assert plan.line("1.1").timeline.due == dt.date(2024, 2, 29)
    assert plan.line("1.2.a").timeline.due == dt.date(2024, 3, 15)
    assert plan.line("1.2.b").timeline.due == dt.date(2024, 9, 30)
    assert plan.line("1.2.c").partners == ["van-phong", "so-tu-phap"]
    assert plan.line("2.1").timeline.recurrence == "quarterly"
    assert plan.line("2.2").timeline.milestones == [dt.date(2024, 6, 30), dt.date(2024, 12, 31)]
    line = plan.line("2.3")
    assert line.partners == ["don-vi-truc-thuoc", "vhtt-cap-huyen"]
    assert line.timeline.due is None
    assert plan.reporting_dates[0].due == dt.date(2024, 3, 10)
    assert plan.warnings == []


ANOTHER_2025 = "\n".join(
    [
        "KẾ HOẠCH",
        "Tuyên truyền cải cách hành chính năm 2025 của Sở Văn hóa, Thể thao và Du lịch",
        "STT\tNội dung công việc\tĐơn vị chủ trì thực hiện\tĐơn vị phối hợp thực hiện\t"
        "Sản phẩm\tThời hạn",
        "1.\tTuyên truyền\t\t\t\t",
        "1.1.\tXây dựng kế hoạch tuyên truyền\tVăn phòng\tTrung tâm Văn hóa tỉnh\tKế hoạch\t"
        "Trước 30/9",
        "1.2.\tTổ chức hội thi\t\t\t\t",
        "a)\tVòng sơ khảo\tTrung tâm Văn hóa\tThư viện tỉnh, Bảo tàng tỉnh\tBiên bản\tQuý 2/2025",
        "b)\tVòng chung kết\tTrung tâm Văn hóa\tBan Giám đốc\tQuyết định\tTháng 6",
        "d)\tTổng kết\tVăn phòng\tPhòng Quản lý Gia đình\tBáo cáo\tQuý III",
        "2.\tTheo dõi\t\t\t\t",
        "2.1.\tBáo cáo định kỳ\tVăn phòng\tCác phòng chuyên môn\tBáo cáo\tHàng tháng",
        "2.1.\tBáo cáo trùng mã\tVăn phòng\tCác phòng chuyên môn\tBáo cáo\tHàng tháng",
    ]
)


def test_a_docx_plan_with_trailing_dots_and_gaps(directory: UnitDirectory) -> None:
    data = docx_from_text(ANOTHER_2025, join_continuations=False)
    plan = import_plan(read_bytes(data, name="tuyen-truyen-2025.docx"), directory)
    assert plan.year == 2025
    assert plan.issuer == "Sở Văn hóa, Thể thao và Du lịch tỉnh Bình Dương"
    assert [line.code for line in plan.lines] == ["1.1", "1.2.a", "1.2.b", "1.2.d", "2.1", "2.1"]
    assert plan.line("1.1").timeline.due == dt.date(2025, 9, 30)
    assert plan.line("1.2.a").timeline.due == dt.date(2025, 6, 30)
    assert plan.line("1.2.a").partners == ["thu-vien", "bao-tang"]
    assert plan.line("1.2.b").timeline.due == dt.date(2025, 6, 30)
    assert plan.line("1.2.d").partners == ["Phòng Quản lý Gia đình"]
    assert [w.code for w in plan.line("1.2.d").warnings] == ["unresolved-unit"]
    by_code = {w.code: w for w in plan.warnings}
    assert by_code["missing-code"].params["code"] == "1.2.c"
    assert by_code["duplicate-code"].severity == "error"
