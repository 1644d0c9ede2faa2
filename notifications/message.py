"""An outbox row as the email that goes on the wire: headers, text and HTML, attachments."""

from __future__ import annotations

from email.header import Header
from email.message import EmailMessage
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


def build_message(
    mail: OutboxMail,
    *,
    sender: str,
    sender_name: str,
    urls: dict[int, str],
    documents: dict[str, bytes],
) -> EmailMessage:
    """The MIME message of a row: text and HTML alternatives, then attachments.

    Message-ID and Date come from the row, so a mail sent twice is the same message twice.
    """
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = mail.to_addr
    _set_subject(message, mail.subject)
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message["Content-Language"] = "vi"
    # For mail filters and support: which cycle and which kind of message this is.
    message["X-Duyet-Kind"] = mail.kind
    if mail.cycle_id is not None:
        message["X-Duyet-Cycle"] = mail.cycle_id
    text = fill_slots(mail.text_body, urls, html_body=False)
    message.set_content(text, cte="quoted-printable")
    if mail.html_body:
        html = fill_slots(mail.html_body, urls, html_body=True)
        message.add_alternative(html, subtype="html", cte="quoted-printable")
    for record in mail.attachments:
        attachment = Attachment.from_record(record)
        content = attachment.content
        if content is None:
            assert attachment.sha256 is not None
            content = documents[attachment.sha256]
        maintype, subtype = attachment.media_type.split("/", 1)
        message.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=dict(attachment.params),
        )
    return message


def _set_subject(message: EmailMessage, subject: str) -> None:
    # CPython's folder drops the space between two encoded words when it splits a long
    # subject ("dự thảo (vòng 1)" arrives as "dự thảo(vòng 1)"). The legacy encoder keeps
    # spaces inside the encoded words, and a value folded already is sent as it is.
    if subject.isascii():
        message["Subject"] = subject
    else:
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def prepare(
    session: Session, mail: OutboxMail, *, settings: Settings, directory: UnitDirectory
) -> EmailMessage:
    """Read what a row needs (its links, its stored documents) and build its message."""
    documents: dict[str, bytes] = {}
    for record in mail.attachments:
        sha256 = record.get("sha256")
        if sha256 and "content_b64" not in record:
            content = document_content(session, sha256=sha256)
            if content is None:
                raise MissingDocument(f"document {sha256} of mail {mail.id} is not stored")
            documents[sha256] = content
    office = directory.unit(directory.roles.office)
    return build_message(
        mail,
        sender=sender_address(settings, directory),
        sender_name=office.name,
        urls=resolve_links(session, settings=settings, mail=mail),
        documents=documents,
    )
