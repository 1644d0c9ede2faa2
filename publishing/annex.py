"""The periodic report's annex (Phụ lục): one spreadsheet row per plan line, as openpyxl writes it.

The same rows and clock give the same bytes: the workbook's dates and the zip entries' times come
from `now`, never from the machine's clock, so a report issued twice carries one annex.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "Phụ lục"
DATE_FORMAT = "DD/MM/YYYY"
# Header -> column width (characters); the order is the sheet's.
COLUMNS: dict[str, int] = {
    "Mã": 8,
    "Nhiệm vụ": 60,
    "Đơn vị chủ trì": 28,
    "Đơn vị phối hợp": 36,
    "Sản phẩm": 24,
    "Thời gian": 22,
    "Hạn": 12,
    "Tình trạng": 16,
    "Giai đoạn": 24,
    "Vòng": 7,
    "Hạn giai đoạn": 14,
    "Đơn vị chưa trả lời": 36,
    "Văn bản đã ban hành": 30,
}
_DATES = {"Hạn", "Hạn giai đoạn"}


@dataclass(frozen=True)
class AnnexRow:
    """One plan line as the annex lists it; empty text and None stay blank cells."""

    code: str
    title: str
    lead: str
    partners: str
    products: str
    time: str
    due: dt.date | None
    status: str
    stage: str
    round: int | None
    stage_due: dt.date | None
    waiting: str
    published: str

    def cells(self) -> list[object]:
        values = (
            self.code,
            self.title,
            self.lead,
            self.partners,
            self.products,
            self.time,
            self.due,
            self.status,
            self.stage,
            self.round,
            self.stage_due,
            self.waiting,
            self.published,
        )
        return [None if value == "" else value for value in values]


def annex_xlsx(rows: list[AnnexRow], *, title: str, author: str, now: dt.datetime) -> bytes:
    """The workbook: a bold, frozen header, then one row per line; dates are Excel dates."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        sheet.append(row.cells())
    for index, (name, width) in enumerate(COLUMNS.items(), start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if name in _DATES:
                cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    stamp = now.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)  # openpyxl writes UTC
    properties = workbook.properties
    properties.title, properties.creator, properties.language = title, author, "vi-VN"
    properties.created = properties.modified = stamp
    return _save(workbook, stamp)


def _save(workbook: Workbook, stamp: dt.datetime) -> bytes:
    # `Workbook.save` stamps `modified` with the clock, and zipfile dates every entry by it:
    # write through openpyxl's writer, then give every entry the report's time.
    written = io.BytesIO()
    ExcelWriter(workbook, ZipFile(written, "w", ZIP_DEFLATED)).save()  # closes the archive
    stable = io.BytesIO()
    with ZipFile(written) as source, ZipFile(stable, "w", ZIP_DEFLATED) as target:
        for item in source.infolist():
            entry = ZipInfo(item.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = ZIP_DEFLATED
            target.writestr(entry, source.read(item.filename))
    return stable.getvalue()
