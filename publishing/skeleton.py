"""The draft skeleton offered to a line's lead unit: the document pre-filled from the plan line."""

from __future__ import annotations

from dataclasses import dataclass

from definitions.doctypes import DocType, doc_type
from definitions.plan import Plan, PlanLine
from definitions.units import UnitDirectory
from publishing.spec import Block, DocumentSpec, Heading, Issuer, Paragraph, SignerBlock

PLACEHOLDER = "[Nội dung do đơn vị chủ trì soạn thảo]"
CLOSING = "./."  # how the body of a Vietnamese administrative document ends

# Headings typical of each type (Decree 30 practice); the lead/partner paragraph and the time go
# under the heading that says who carries the work out ("TỔ CHỨC THỰC HIỆN").
_OUTLINES: dict[str, tuple[str, ...]] = {
    "Kế hoạch": ("I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG", "III. TỔ CHỨC THỰC HIỆN"),
    "Báo cáo": (
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TỒN TẠI, HẠN CHẾ",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ",
        "IV. KIẾN NGHỊ, ĐỀ XUẤT",
    ),
    "Hướng dẫn": ("I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG HƯỚNG DẪN", "III. TỔ CHỨC THỰC HIỆN"),
    "Chương trình": ("I. MỤC TIÊU", "II. NHIỆM VỤ, GIẢI PHÁP", "III. TỔ CHỨC THỰC HIỆN"),
    "Tờ trình": ("I. SỰ CẦN THIẾT", "II. NỘI DUNG ĐỀ XUẤT", "III. TỔ CHỨC THỰC HIỆN"),
    "Quy chế": ("Chương I. QUY ĐỊNH CHUNG", "Chương II. NỘI DUNG", "Chương III. TỔ CHỨC THỰC HIỆN"),
}
# How the opening sentence ("Thực hiện Kế hoạch …, Sở … <this>") goes on, by type.
_OPENINGS: dict[str, str] = {
    "Kế hoạch": "ban hành Kế hoạch thực hiện như sau:",
    "Báo cáo": "báo cáo kết quả thực hiện như sau:",
    "Hướng dẫn": "hướng dẫn thực hiện như sau:",
    "Chương trình": "ban hành Chương trình thực hiện như sau:",
    "Tờ trình": "kính trình {addressee} như sau:",
    "Thông báo": "thông báo như sau:",
    "Công văn": "đề nghị {addressee} như sau:",
}
_GENERIC_OUTLINE = ("I. NỘI DUNG", "II. TỔ CHỨC THỰC HIỆN")
# Names in the directory that begin with a common noun, written lower-case inside a sentence.
_COMMON_NOUNS = ("Các ", "Cán bộ ", "Chuyên viên ", "Công chức")


def skeleton_spec(
    *,
    plan: Plan,
    line: PlanLine,
    directory: UnitDirectory,
    process_stage_signer: SignerBlock | None = None,
) -> DocumentSpec:
    """A draft (DỰ THẢO) of the line's first product, addressed and signed as the plan says."""
    kind = _product_type(line)
    organisation = directory.organisation
    lead_units = [directory.unit(ref) for ref in line.lead if _is_unit(directory, ref)]
    board = directory.unit(directory.roles.director_board)
    recipients = _unique([*_names(directory, line.partners), board.name])
    abbreviation = next((u.abbreviation for u in lead_units if u.abbreviation), None)
    context = _Context(
        organisation=organisation.short_name,
        plan=_plan_reference(plan),
        summary=_summary(line),
        lead=_enumerate(_names(directory, line.lead)) or organisation.short_name,
        proposer=next(iter(_names(directory, line.lead)), organisation.short_name),
        partners=_enumerate(_names(directory, line.partners)),
        time=line.timeline.text.strip(),
        addressee=_in_sentence(recipients[0]),
    )
    return DocumentSpec(
        type_name=kind.name,
        type_code=kind.abbreviation,
        issuer=Issuer(
            parent=organisation.parent.upper(),
            name=organisation.short_name.upper(),
            code=organisation.code,
        ),
        unit_code=abbreviation if kind.abbreviation is None else None,
        place=organisation.place,
        year=plan.year,
        summary=context.summary,
        blocks=_body(kind.name, context),
        signer=process_stage_signer or _plan_signer(plan, directory),
        recipients=recipients,
        storage=_unique(["VT", *([abbreviation] if abbreviation else [])]),
        draft=True,
    )


@dataclass(frozen=True)
class _Context:
    """What the body text of a skeleton names: the plan, the line, its units and its time."""

    organisation: str  # Sở Văn hóa, Thể thao và Du lịch
    plan: str  # Kế hoạch số 15/KH-SVHTTDL ngày … về triển khai…
    summary: str
    lead: str
    proposer: str  # the first lead unit: "Theo đề nghị của …"
    partners: str
    time: str
    addressee: str


def _product_type(line: PlanLine) -> DocType:
    for product in line.products:
        try:
            return doc_type(product)
        except KeyError:
            continue
    return doc_type("Công văn")


def _summary(line: PlanLine) -> str:
    return " ".join(line.title.split()).rstrip(" .")


def _lower_first(text: str) -> str:
    """`Triển khai…` -> `triển khai…`, but an acronym (`VBQPPL…`) keeps its capitals."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _plan_reference(plan: Plan) -> str:
    """`Kế hoạch số 15/KH-SVHTTDL ngày 05/01/2023 về triển khai…`, or without number and date."""
    parts = ["Kế hoạch"]
    if plan.number and plan.number[0].isdigit():
        parts.append(f"số {plan.number}")
    if plan.date is not None:
        parts.append(f"ngày {plan.date:%d/%m/%Y}")
    title = _lower_first(plan.title)
    parts.append(f"về {title}" if len(parts) > 1 else title)
    return " ".join(parts)


def _in_sentence(name: str) -> str:
    """Inside a sentence `Các phòng…` reads `các phòng…`; proper names (`Văn phòng Sở`) stay."""
    if name.startswith(_COMMON_NOUNS):
        return name[0].lower() + name[1:]
    return name


def _enumerate(names: list[str]) -> str:
    return ", ".join([*names[:1], *map(_in_sentence, names[1:])])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _is_unit(directory: UnitDirectory, ref: str) -> bool:
    return any(u.id == ref for u in directory.units)


def _names(directory: UnitDirectory, refs: list[str]) -> list[str]:
    """Names of the units and groups among `refs`; citizens and unknown words are no recipients."""
    names = {u.id: u.name for u in directory.units} | {g.id: g.name for g in directory.groups}
    return _unique([names[ref] for ref in refs if ref in names])


def _plan_signer(plan: Plan, directory: UnitDirectory) -> SignerBlock:
    """The plan's signer (`KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC` split in two), else the board's head."""
    if plan.signer is not None:
        authority, _, position = plan.signer.position.rpartition("/")
        return SignerBlock(
            authority=authority.strip() or None,
            position=position.strip(),
            name=plan.signer.name,
        )
    board = directory.unit(directory.roles.director_board)
    if board.head is None:
        raise ValueError(f"the plan has no signer and unit {board.id} has no head")
    return SignerBlock(position=board.head.title.upper(), name=board.head.name)


def _body(type_name: str, c: _Context) -> list[Block]:
    going_on = _OPENINGS.get(type_name, "triển khai thực hiện như sau:").format(
        addressee=c.addressee
    )
    opening = f"Thực hiện {c.plan}, {c.organisation} {going_on}"
    if type_name == "Quyết định":
        return _decision(c)
    if type_name == "Nghị quyết":
        return [
            Paragraph(text=f"Căn cứ {c.plan};"),
            Heading(text="QUYẾT NGHỊ:"),
            Paragraph(text=f"Điều 1. {PLACEHOLDER}"),
            Paragraph(
                text=f"Điều 2. Giao {_in_sentence(c.lead)} chủ trì tổ chức thực hiện "
                f"Nghị quyết này{CLOSING}"
            ),
        ]
    if type_name == "Công văn":
        return [
            Paragraph(text=opening),
            Paragraph(text=PLACEHOLDER),
            Paragraph(text=f"Đầu mối liên hệ: {c.lead}. Thời gian: {c.time or '[…]'}."),
            Paragraph(
                text=f"{c.organisation} đề nghị Quý cơ quan, đơn vị quan tâm phối hợp{CLOSING}"
            ),
        ]
    if type_name == "Thông báo":
        return [
            Paragraph(text=opening),
            Paragraph(text=PLACEHOLDER),
            Paragraph(text=f"{c.organisation} thông báo để các đơn vị biết, thực hiện{CLOSING}"),
        ]
    if type_name == "Biên bản":
        attendees = _enumerate([n for n in (c.lead, c.partners) if n])
        return [
            Paragraph(text="Thời gian: vào lúc … giờ …, ngày … tháng … năm …"),
            Paragraph(text="Địa điểm: […]"),
            Paragraph(text=f"Thành phần tham dự: {attendees}, […]."),
            Paragraph(text="Chủ trì: […]; thư ký: […]."),
            Heading(text="I. NỘI DUNG"),
            Paragraph(text=PLACEHOLDER),
            Heading(text="II. KẾT LUẬN"),
            Paragraph(text=PLACEHOLDER),
            Paragraph(text=f"Cuộc họp kết thúc vào lúc … giờ … cùng ngày{CLOSING}"),
        ]
    return _sections(type_name, c, opening)


def _decision(c: _Context) -> list[Block]:
    executors = _enumerate([n for n in (c.lead, c.partners) if n])
    return [
        Paragraph(text="Căn cứ […] quy định chức năng, nhiệm vụ, quyền hạn của Sở;"),
        Paragraph(text=f"Căn cứ {c.plan};"),
        Paragraph(text=f"Theo đề nghị của {c.proposer}."),
        Heading(text="QUYẾT ĐỊNH:"),
        Paragraph(text=f"Điều 1. {PLACEHOLDER}"),
        Paragraph(text="Điều 2. Quyết định này có hiệu lực kể từ ngày ký."),
        Paragraph(
            text=f"Điều 3. {executors} và các cơ quan, đơn vị có liên quan "
            f"chịu trách nhiệm thi hành Quyết định này{CLOSING}"
        ),
    ]


def _sections(type_name: str, c: _Context, opening: str) -> list[Block]:
    outline = _OUTLINES.get(type_name, _GENERIC_OUTLINE)
    # A Quy chế is issued with a decision that cites the plan: it opens on its first chapter.
    blocks: list[Block] = [] if type_name == "Quy chế" else [Paragraph(text=opening)]
    for heading in outline:
        blocks.append(Heading(text=heading))
        blocks.extend(
            _organisation(c) if "TỔ CHỨC THỰC HIỆN" in heading else [Paragraph(text=PLACEHOLDER)]
        )
    if type_name == "Tờ trình":
        blocks.append(Paragraph(text=f"Kính trình {c.addressee} xem xét, quyết định{CLOSING}"))
    elif type_name == "Báo cáo":
        blocks.append(Paragraph(text=f"Trên đây là báo cáo của {c.organisation}{CLOSING}"))
    return blocks


def _organisation(c: _Context) -> list[Block]:
    """Who does what and by when, as the plan line says."""
    paragraphs = [f"1. {c.lead} (đơn vị chủ trì): chủ trì, tham mưu tổ chức triển khai thực hiện."]
    if c.partners:
        paragraphs.append(f"2. {c.partners} (đơn vị phối hợp): phối hợp thực hiện.")
    if c.time:
        paragraphs.append(f"Thời gian thực hiện: {c.time}.")
    return [Paragraph(text="\n".join(paragraphs))]


def skeleton_text(spec: DocumentSpec) -> str:
    """The skeleton as the plain text the lead unit edits and sends back: the trích yếu on the
    first line, then headings and paragraphs (the text `publishing.issue.body_blocks` reads)."""
    lines = [f"Trích yếu: {spec.summary}", ""]
    for block in spec.blocks:
        if isinstance(block, Heading | Paragraph):
            lines.append(block.text)
    return "\n".join(lines) + "\n"
