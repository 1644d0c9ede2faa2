"""Acting as the people of a cycle in flow tests: read the mail, follow the link, answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from email.message import EmailMessage

from definitions.stage_rules import Verdict
from duyet.responses import decide, submit
from duyet.settings import Settings
from flows.control import Nudge, resume_if_decided, view_of
from notifications.sender import send_due
from records.engine import session_scope

LINK = re.compile(r"http://portal\.test/r/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def deliver(settings: Settings) -> None:
    """Send everything queued, including mail the sweeper queued on a clock set in the future."""
    from duyet.definition_files import definitions, mail_directories

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    send_due(settings, directory=mail_directories(definitions(settings)), now=later)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def token_in(message: EmailMessage) -> str:
    tokens = set(LINK.findall(text_of(message)))
    assert len(tokens) == 1, tokens
    return tokens.pop()


def answer(settings: Settings, message: EmailMessage, verdict: Verdict, comment: str = "") -> Nudge:
    token = token_in(message)
    with session_scope(settings.database_url) as session:
        decision = decide(session, settings, raw_token=token, verdict=verdict, comment=comment)
        cycle_id = decision.cycle_id
    return asyncio.run(resume_if_decided(settings, cycle_id))


def send_version(settings: Settings, message: EmailMessage, content: bytes) -> Nudge:
    token = token_in(message)
    with session_scope(settings.database_url) as session:
        version = submit(
            session,
            settings,
            raw_token=token,
            content=content,
            filename="du-thao.txt",
            media_type="text/plain",
        )
        cycle_id = version.cycle_id
    return asyncio.run(resume_if_decided(settings, cycle_id))


def stage_of(settings: Settings, cycle_id: str) -> tuple[str, int, str]:
    view = view_of(settings, cycle_id)
    return view.stage, view.round, view.status
