"""Mail from typed contexts through Jinja2 templates, HTML and text. Pure: no DB, clock, network."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from duyet.messages import (
    MAIL_ACTIONS,
    MAIL_CALENDAR,
    MAIL_DUTIES,
    MAIL_KINDS,
    MAIL_SUBJECTS,
    STAGES,
    VERDICTS,
    capitalize,
)
from notifications.context import (
    CONTEXTS,
    Action,
    Base,
    DeadLetter,
    Digest,
    Document,
    Escalation,
    LineMail,
    ProgressReport,
    Published,
)
from notifications.ics import DeadlineEvent, deadline_calendar
from notifications.mail import Attachment, Mail, MailKind

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one template environment: strict about missing values, HTML autoescaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the code: no stat() on every render
        keep_trailing_newline=True,
    )
    env.filters["dmy"] = _dmy
    env.filters["size"] = _size
    env.filters["capitalize"] = capitalize
    env.globals.update(
        stages=STAGES, verdicts=VERDICTS, actions=MAIL_ACTIONS, duties=MAIL_DUTIES, kinds=MAIL_KINDS
    )
    return env


def render(kind: MailKind | str, context: Base | Mapping[str, Any]) -> Mail:
    """The mail of `kind` saying what `context` holds (a context model or its plain data)."""
    kind = MailKind(kind)
    model = CONTEXTS[kind]
    if isinstance(context, Base):
        if not isinstance(context, model):
            raise TypeError(f"{kind} needs {model.__name__}, not {type(context).__name__}")
        data = context
    else:
        data = model.model_validate(context)
    subject = subject_of(kind, data)
    values = {name: getattr(data, name) for name in type(data).model_fields}
    values.update(subject=subject, kind=kind)
    env = environment()
    text = _tidy(env.get_template(f"{kind}.txt.j2").render(values))
    html = env.get_template(f"{kind}.html.j2").render(values)
    return Mail(kind, subject, text, html, _attachments(data))


def subject_of(kind: MailKind, context: Base) -> str:
    """The subject line: `MAIL_SUBJECTS[kind]` filled in, on one line."""
    template = MAIL_SUBJECTS[kind]
    fields = subject_fields(context)
    names = {name for _, name, _, _ in Formatter().parse(template) if name}
    return _one_line(template.format(**{name: fields[name] for name in names}))


def subject_fields(context: Base) -> dict[str, Any]:
    """What subject templates may use; `code` always comes first in the subject."""
    fields: dict[str, Any] = {}
    if isinstance(context, LineMail):
        fields.update(code=context.line.code, round=context.round)
    action = getattr(context, "action", None)
    if isinstance(action, Action):
        fields.update(deadline=_dmy(action.deadline), stage=STAGES[action.stage])
    if isinstance(context, Escalation):
        fields.update(
            deadline=_dmy(context.deadline),
            stage=STAGES[context.stage],
            units=", ".join(context.late_units),
        )
    if isinstance(context, Published):
        fields.update(filename=context.document.filename)
    if isinstance(context, Digest):
        codes = list(dict.fromkeys(item.line.code for item in context.items))
        fields.update(code=", ".join(codes), count=len(context.items), date=_dmy(context.on))
    if isinstance(context, DeadLetter):
        fields.update(code=context.code, to=context.failed.to)
    if isinstance(context, ProgressReport):  # no line: the report's number leads instead
        fields.update(code=context.number.removeprefix("Số:").strip(), period=context.period)
    return fields


def _attachments(context: Base) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    events = [_event(context, line, action) for line, action in _actions(context)]
    if events:
        found.append(
            Attachment(
                filename=MAIL_CALENDAR["filename"],
                media_type="text/calendar",
                content=deadline_calendar(events),
                params=(("charset", "utf-8"), ("method", "PUBLISH")),
            )
        )
    if isinstance(context, Published):
        found.append(_stored(context.document))
    if isinstance(context, ProgressReport):
        found.extend((_stored(context.document), _stored(context.annex)))
    return tuple(found)


def _stored(document: Document) -> Attachment:
    """A stored document attached by its sha256: the sender loads the bytes."""
    return Attachment(
        filename=document.filename,
        media_type=document.media_type,
        sha256=document.sha256,
        size=document.size,
    )


def _actions(context: Base) -> list[tuple[Any, Action]]:
    if isinstance(context, Digest):
        return [(item.line, item.action) for item in context.items]
    action = getattr(context, "action", None)
    if isinstance(context, LineMail) and isinstance(action, Action):
        return [(context.line, action)]
    return []


def _event(context: Base, line: Any, action: Action) -> DeadlineEvent:
    values = {
        "code": line.code,
        "title": line.title,
        "stage": STAGES[action.stage],
        "round": action.round,
    }
    return DeadlineEvent(
        uid=action.calendar_uid,
        day=action.deadline,
        summary=_one_line(MAIL_CALENDAR["summary"].format(**values)),
        description=MAIL_CALENDAR["description"].format(**values),
        alarm=MAIL_CALENDAR["alarm"].format(**values),
        stamp=context.issued_at,
        url=context.sender.portal_url,
    )


def _dmy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _size(value: int) -> str:
    if value < 1024:
        return f"{value} byte"
    kb = value / 1024
    shown = f"{kb:.1f} KB" if kb < 1024 else f"{kb / 1024:.1f} MB"
    return shown.replace(".", ",")


def _tidy(text: str) -> str:
    # Optional blocks leave blank lines behind; keep at most one between paragraphs.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
