"""An outbox row as the email that goes on the wire: headers, text and HTML, attachments."""

from __future__ import annotations

import io
from dataclasses import dataclass
from email import charset, encoders
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from sqlalchemy.orm import Session

from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications.links import fill_slots, resolve_links
from notifications.mail import Attachment
from records.documents import document_content
from records.models import Mail as OutboxMail


class MissingDocument(Exception):
    """An attachment names a stored document that is not there."""


def sender_address(settings: Settings, directory: UnitDirectory) -> str:
    """The envelope sender: `DUYET_SMTP_FROM`, else duyet@<organisation mail domain>."""
    return settings.smtp_from or f"duyet@{directory.organisation.mail_domain}"


# Built with the `email.mime` classes (the compat32 policy): their headers are plain strings.
# The standard policy parses every header through its registry, three times the cost of the
# sending itself (docs/benchmarks.md, outbox); what goes on the wire is the same.
UTF8_QP = charset.Charset("utf-8")
UTF8_QP.body_encoding = charset.QP
WIRE = compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class Materials:
    """What a row's message is built from: the row, its links' URLs, its stored documents."""

    mail: OutboxMail
    urls: dict[int, str]
    documents: dict[str, bytes]


def build_message(
    mail: OutboxMail,
    *,
    sender: str,
    sender_name: str,
    urls: dict[int, str],
    documents: dict[str, bytes],
) -> Message:
    """The MIME message of a row: text and HTML alternatives, then attachments.

    Message-ID and Date come from the row, so a mail sent twice is the same message twice.
    """
    message = MIMEMultipart("mixed")
    message["From"] = formataddr((sender_name, sender))
    message["To"] = mail.to_addr
    message["Subject"] = _subject(mail.subject)
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message["Content-Language"] = "vi"
    # For mail filters and support: which cycle and which kind of message this is.
    message["X-Duyet-Kind"] = str(mail.kind)
    if mail.cycle_id is not None:
        message["X-Duyet-Cycle"] = str(mail.cycle_id)
    body: Message = _text(fill_slots(mail.text_body, urls, html_body=False), "plain")
    if mail.html_body:
        html = _text(fill_slots(mail.html_body, urls, html_body=True), "html")
        body = _part(MIMEMultipart("alternative", _subparts=[body, html]))
    message.attach(body)
    for record in mail.attachments:
        message.attach(_attachment(Attachment.from_record(record), documents))
    return message


def wire(message: Message) -> bytes:
    """The message as it goes to the SMTP server (CRLF line ends)."""
    with io.BytesIO() as out:
        BytesGenerator(out, policy=WIRE).flatten(message)
        return out.getvalue()


def _part(part: Message) -> Message:
    del part["MIME-Version"]  # the top-level message says it once
    return part


def _text(text: str, subtype: str) -> Message:
    return _part(MIMEText(text, subtype, UTF8_QP))  # type: ignore[arg-type]  # takes a Charset


def _attachment(attachment: Attachment, documents: dict[str, bytes]) -> Message:
    content = attachment.content
    if content is None:
        assert attachment.sha256 is not None
        content = documents[attachment.sha256]
    maintype, subtype = attachment.media_type.split("/", 1)
    part = _part(MIMEBase(maintype, subtype))
    for name, value in attachment.params:
        part.set_param(name, value)
    part.set_payload(content)
    encoders.encode_base64(part)
    name = attachment.filename
    part.add_header(
        "Content-Disposition",
        "attachment",
        filename=name if name.isascii() else ("utf-8", "", name),
    )
    return part


def _subject(subject: str) -> str:
    # CPython's folder drops the space between two encoded words when it splits a long
    # subject ("dự thảo (vòng 1)" arrives as "dự thảo(vòng 1)"). The legacy encoder keeps
    # spaces inside the encoded words, and a value folded already is sent as it is.
    if subject.isascii():
        return subject
    return Header(subject, "utf-8", header_name="Subject").encode()


def gather(session: Session, mail: OutboxMail, *, settings: Settings) -> Materials:
    """Read what a row's message needs: its links (derived again), its stored documents."""
    documents: dict[str, bytes] = {}
    for record in mail.attachments:
        sha256 = record.get("sha256")
        if sha256 and "content_b64" not in record:
            content = document_content(session, sha256=sha256)
            if content is None:
                raise MissingDocument(f"document {sha256} of mail {mail.id} is not stored")
            documents[sha256] = content
    return Materials(mail, resolve_links(session, settings=settings, mail=mail), documents)


def prepare(
    session: Session, mail: OutboxMail, *, settings: Settings, directory: UnitDirectory
) -> Message:
    """Read what a row needs (its links, its stored documents) and build its message."""
    return build(gather(session, mail, settings=settings), settings=settings, directory=directory)


def build(materials: Materials, *, settings: Settings, directory: UnitDirectory) -> Message:
    """The message of a row whose materials were read (`gather`); no database needed."""
    return build_message(
        materials.mail,
        sender=sender_address(settings, directory),
        sender_name=directory.unit(directory.roles.office).name,
        urls=materials.urls,
        documents=materials.documents,
    )
