"""What a document to render is made of (Decree 30/2020/NĐ-CP, appendix I), as plain data.

The renderer lays a `DocumentSpec` out; callers (publication, the draft skeleton, the periodic
report) build it from the plan, the unit directory and the records.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Issuer(_Frozen):
    parent: str  # governing body, upper-case: UBND TỈNH BÌNH DƯƠNG
    name: str  # issuing body: SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH
    code: str  # SVHTTDL


class SignerBlock(_Frozen):
    """`GIÁM ĐỐC`, or `KT. GIÁM ĐỐC` over `PHÓ GIÁM ĐỐC` when a deputy signs for the director."""

    authority: str | None = None  # KT. GIÁM ĐỐC (None when the head signs in their own name)
    position: str  # GIÁM ĐỐC / PHÓ GIÁM ĐỐC
    name: str


class Paragraph(_Frozen):
    kind: Literal["paragraph"] = "paragraph"
    text: str


class Heading(_Frozen):
    kind: Literal["heading"] = "heading"
    text: str  # "I. MỤC ĐÍCH, YÊU CẦU"


class Table(_Frozen):
    kind: Literal["table"] = "table"
    header: list[str]
    rows: list[list[str]]
    widths: list[int] = []  # relative column widths; empty: equal


class Figure(_Frozen):
    kind: Literal["figure"] = "figure"
    svg: str  # an inline SVG chart
    caption: str


Block = Annotated[Paragraph | Heading | Table | Figure, Field(discriminator="kind")]


class DocumentSpec(_Frozen):
    type_name: str  # Kế hoạch, Báo cáo, Quyết định, Công văn…
    type_code: str | None  # KH, BC, QĐ…; None for Công văn
    issuer: Issuer
    number: int | None = None  # None: not issued yet (draft, skeleton): `Số:      /KH-SVHTTDL`
    unit_code: str | None = None  # drafting unit, in a Công văn's symbol: SVHTTDL-VP
    place: str  # Bình Dương
    date: dt.date | None = None  # None: not issued yet: `ngày    tháng    năm 2023`
    year: int  # the year shown when the date is not known yet
    summary: str  # trích yếu
    blocks: list[Block] = []
    signer: SignerBlock
    recipients: list[str] = []  # Nơi nhận, without the storage line
    storage: list[str] = ["VT"]  # `Lưu: VT, VP.`
    draft: bool = False  # a skeleton or draft: marked DỰ THẢO
    number_year: bool = False  # a legal normative document: `Số: 15/2023/QĐ-UBND`
    recorder: str | None = None  # Biên bản: who took the minutes, signs as THƯ KÝ

    @property
    def symbol(self) -> str:
        """`KH-SVHTTDL`, or `SVHTTDL-VP` for a Công văn (no type abbreviation)."""
        if self.type_code is None:
            return f"{self.issuer.code}-{self.unit_code}" if self.unit_code else self.issuer.code
        return f"{self.type_code}-{self.issuer.code}"

    @property
    def number_line(self) -> str:
        """`Số: 05/KH-SVHTTDL`; numbers under 10 get a leading zero; blank before issuance."""
        number = f"{self.number:02d}" if self.number is not None else "\u00a0" * 6
        year = f"{self.year}/" if self.number_year else ""
        return f"Số: {number}/{year}{self.symbol}"

    @property
    def date_line(self) -> str:
        """`Bình Dương, ngày 05 tháng 01 năm 2023`: zero before days < 10 and months 1 and 2."""
        if self.date is None:
            blank = "\u00a0" * 4
            return f"{self.place}, ngày{blank}tháng{blank}năm {self.year}"
        day = f"{self.date.day:02d}"
        month = f"{self.date.month:02d}" if self.date.month < 3 else str(self.date.month)
        return f"{self.place}, ngày {day} tháng {month} năm {self.date.year}"


class Rendered(_Frozen):
    html: str
    pdf: bytes
