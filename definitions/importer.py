"""Turn a plan document into a `Plan`: rows to coded lines, units to ids, time to dates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from definitions.doctypes import DOC_TYPES, products_in
from definitions.findings import Finding, Severity
from definitions.header import read_header
from definitions.lint import check_numbering, check_text
from definitions.plan import Group, Plan, PlanLine, Section, Source
from definitions.process import ProcessDefinition, choose_process
from definitions.resolve import UnitResolver
from definitions.sources import NotAPlan, Paragraph, SourceDocument, Table, read_bytes
from definitions.table import Column, Record, find_plan_table
from definitions.text import fold, unaccent
from definitions.timeline import parse_timeline
from definitions.units import UnitDirectory
from duyet.messages import FIELD_NAMES, NOT_A_PLAN

_SECTION = re.compile(r"^(\d+|[IVXL]+)$")
_NUMBERED = re.compile(r"^\d+(\.\d+)+$")
_LETTER = re.compile(r"^[a-zđ]$")
_FULL = re.compile(r"^(\d+(?:\.\d+)+)\.([a-zđ])$")
PLAN_YEARS = range(1900, 2100)  # a plan's year; "năm 0203" is a slip no date can be built on


@dataclass
class _Builder:
    directory: UnitDirectory
    plan_year: int
    resolver: UnitResolver
    sections: list[Section] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    lines: list[PlanLine] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    group: Group | None = None
    coded: list[tuple[str, int]] = field(default_factory=list)

    def add(self, records: list[Record]) -> None:
        for index, record in enumerate(records):
            code = _normalise_code(record.text(Column.CODE))
            following = records[index + 1] if index + 1 < len(records) else None
            if _SECTION.match(code) and not _has_details(record):
                self.sections.append(Section(code=code, title=record.text(Column.TITLE)))
                self.coded.append((code, record.line))
                self.group = None
            elif _NUMBERED.match(code) and not _has_details(record) and _starts_letters(following):
                self.group = Group(code=code, title=record.text(Column.TITLE).rstrip(" :"))
                self.groups.append(self.group)
                self.coded.append((code, record.line))
            elif _NUMBERED.match(code):
                self.group = None
                self._line(record, code, None)
            elif (match := _FULL.match(code)) is not None:
                self._line(record, code, match.group(1))
            elif _LETTER.match(code) and self.group is not None:
                self._line(record, f"{self.group.code}.{code}", self.group.code)
            elif _LETTER.match(code):
                self._error(record, "orphan-letter", code=code)
            else:
                self._error(record, "bad-code", code=code or "∅")

    def _error(self, record: Record, finding: str, **params: str | int) -> None:
        self.findings.append(
            Finding(code=finding, params=params, severity=Severity.ERROR, line=record.line)
        )

    def _line(self, record: Record, code: str, group: str | None) -> None:
        line_no = record.line
        self.coded.append((code, line_no))
        section = code.split(".")[0]
        warnings: list[Finding] = []
        if not self.sections or self.sections[-1].code != section:
            warnings.append(
                Finding(code="section-mismatch", params={"code": code}, line=line_no, subject=code)
            )
        lead_text = record.text(Column.LEAD)
        partners_text = record.text(Column.PARTNERS)
        lead = self.resolver.resolve(lead_text, field=FIELD_NAMES["lead"], line=line_no)
        partners = self.resolver.resolve(partners_text, field=FIELD_NAMES["partners"], line=line_no)
        warnings += lead.findings + partners.findings
        if not lead_text:
            warnings.append(Finding(code="no-lead", line=line_no))
        else:
            tops = {self._top(ref) for ref in lead.refs}
            if len(tops) > 1:
                warnings.append(
                    Finding(
                        code="several-leads",
                        params={"count": len(tops), "names": ", ".join(lead.refs)},
                        line=line_no,
                    )
                )
        timeline, time_findings = parse_timeline(record.text(Column.TIME), plan_year=self.plan_year)
        warnings += [f.model_copy(update={"line": line_no}) for f in time_findings]
        title = record.text(Column.TITLE)
        if not title:
            self._error(record, "no-title", code=code)
        warnings += check_text(
            {FIELD_NAMES[c.value]: record.text(c) for c in Column if c != Column.CODE},
            line=line_no,
        )
        product_text = record.text(Column.PRODUCT)
        self.lines.append(
            PlanLine(
                code=code,
                section=section,
                group=group,
                title=title,
                lead_text=lead_text,
                partners_text=partners_text,
                product_text=product_text,
                lead=lead.refs,
                partners=partners.refs,
                products=products_in(product_text),
                timeline=timeline,
                source_line=line_no,
                warnings=[w.model_copy(update={"subject": code}) for w in warnings],
            )
        )

    def _top(self, ref: str) -> str:
        """An officer counts as the unit it belongs to when counting lead units."""
        try:
            unit = self.directory.unit(ref)
        except KeyError:
            return ref
        return unit.parent or unit.id


def _normalise_code(text: str) -> str:
    code = text.strip().rstrip(".)").lstrip("(").replace(" ", "")
    return code if _SECTION.match(code) else code.lower()


def _has_details(record: Record) -> bool:
    return any(record.text(c) for c in (Column.LEAD, Column.PARTNERS, Column.PRODUCT, Column.TIME))


def _starts_letters(record: Record | None) -> bool:
    return record is not None and bool(_LETTER.match(_normalise_code(record.text(Column.CODE))))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", unaccent(text)).strip("-") or "plan"


def import_plan(
    source: SourceDocument,
    directory: UnitDirectory,
    *,
    plan_id: str | None = None,
    processes: Mapping[str, ProcessDefinition] | None = None,
) -> Plan:
    """Build the plan of `source`; NotAPlan when it has no plan table or no coded line.

    Each line takes the process whose `applies_to` rule matches it (`default` otherwise).
    """
    plan_table = find_plan_table(source)
    before, after = _paragraphs_around(source, plan_table.table)
    kind_names = {fold(t.name) for t in DOC_TYPES}
    header = read_header(before, after, kind_names=kind_names)
    findings = list(header.findings)
    year = header.year
    if year is not None and year not in PLAN_YEARS:
        raise NotAPlan(
            NOT_A_PLAN["bad-year"].format(
                path=source.name, line=header.year_line, year=f"{year:04d}"
            )
        )
    if year is None:
        year = _first_year_in_lines(plan_table.records)
        findings.append(Finding(code="no-year", params={"year": year}))
    issuer = header.issuer
    organisation = directory.organisation
    if issuer is not None and fold(issuer) in {
        fold(organisation.name),
        fold(organisation.short_name),
    }:
        issuer = organisation.name  # the capitalised header line names the same body
    if issuer is None:
        issuer = directory.organisation.name
        findings.append(Finding(code="no-issuer", params={"issuer": issuer}))
    builder = _Builder(directory=directory, plan_year=year, resolver=UnitResolver(directory))
    builder.add(plan_table.records)
    if not builder.lines:
        raise NotAPlan(NOT_A_PLAN["no-lines"].format(path=source.name, line=plan_table.table.line))
    findings += builder.findings + check_numbering(builder.coded)
    return Plan(
        id=plan_id or _slug(Path(source.name).stem),
        title=header.title or (header.kind or source.name),
        issuer=issuer,
        number=header.number,
        place=header.place,
        date=header.date,
        year=year,
        sections=builder.sections,
        groups=builder.groups,
        lines=[
            line.model_copy(
                update={"process": choose_process(processes or {}, line.title, line.products)}
            )
            for line in builder.lines
        ],
        reporting_dates=header.reporting_dates,
        recipients=header.recipients,
        signer=header.signer,
        source=Source(name=source.name, format=source.format, sha256=source.sha256),
        warnings=sorted(findings, key=lambda f: f.line or 0),
    )


def import_file(
    path: Path,
    directory: UnitDirectory,
    *,
    plan_id: str | None = None,
    processes: Mapping[str, ProcessDefinition] | None = None,
) -> Plan:
    """Read and import the plan at `path`."""
    if not path.is_file():
        raise NotAPlan(NOT_A_PLAN["missing"].format(path=path))
    source = read_bytes(path.read_bytes(), name=path.name)
    return import_plan(source, directory, plan_id=plan_id, processes=processes)


def _paragraphs_around(
    source: SourceDocument, table: Table
) -> tuple[list[Paragraph], list[Paragraph]]:
    index = source.blocks.index(table)
    before = [b for b in source.blocks[:index] if isinstance(b, Paragraph)]
    after = [b for b in source.blocks[index + 1 :] if isinstance(b, Paragraph)]
    return before, after


def _first_year_in_lines(records: list[Record]) -> int:
    for record in records:
        if (match := re.search(r"\b(20\d\d)\b", record.text(Column.TIME))) is not None:
            return int(match.group(1))
    import datetime as dt

    return dt.date.today().year
