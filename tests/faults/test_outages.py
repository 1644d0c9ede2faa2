"""Outages against the real stack (a `prefect server start` with a process worker, aiosmtpd, the
SQLite records, the portal app in-process): the mail server down, the Prefect server down, a
worker killed in the middle of a stage, the portal gone between its commit and its resume, a
deadline passing while everything is down. Each scenario opens cycles on several lines, injects
its fault, undoes it, and counts what must exist exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage

import httpx
import pytest
from prefect.client.schemas.objects import StateType
from sqlalchemy import make_url, select, update

from definitions.stage_rules import Verdict
from duyet.definition_files import definitions
from duyet.messages import SILENCE_CONSENT
from duyet.settings import get_settings
from flows.control import Nudge, reconcile, view_of
from notifications.sender import DeliveryReport, send_due
from portal.answers import Answer, Recorded, record_answer
from portal.app import create_app
from portal.deps import Client, Portal
from portal.orchestrator import Orchestrator
from records.audit import events
from records.engine import session_scope
from records.models import Decision, Mail, ReviewCycle
from tests.faults.ledger import Ledger, Row, counts
from tests.flows.helpers import answer, deliver, stage_of, token_in
from tests.flows.test_review_cycle import open_line, suspended_at
from tests.portal.asgi import app_client
from tests.portal.factories import csrf_in
from tests.prefect_server import (
    alive,
    descendants,
    restart_server,
    run_processes,
    start_worker,
    stop,
)
from tests.stack import Stack, running_stack, wait_for

A = Verdict.APPROVE
REQUESTS = ("review_request", "approval_request")
LIVE = (StateType.PENDING, StateType.RUNNING)  # states only a live process holds
Cycle = tuple[str, str]  # (cycle id, id of the flow run that opened it)
# The first test using `waiting` also waits for its twelve cycles (`open_cycles`).
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack, not the session's: its processes are stopped and killed here."""
    yield from running_stack(tmp_path_factory.mktemp("outages"))


@dataclass
class PortalApp:
    state: Portal
    http: httpx.Client


@pytest.fixture(scope="module")
def portal(stack: Stack) -> Iterator[PortalApp]:
    """The portal app on the stack's records, resuming runs on the stack's Prefect server."""
    app = create_app(stack.settings)
    app.state.portal = replace(app.state.portal, orchestrator=Orchestrator(stack.server.api_url))
    with app_client(app) as http:
        yield PortalApp(app.state.portal, http)


# The cycles of the scenarios after the first, by scenario: (line, the stage it first waits at).
PLANS: dict[str, tuple[tuple[str, str], ...]] = {
    # 1.6: Phòng Tổ chức - Pháp chế reviews; 4.3.a: Sở Nội vụ; 2.1.a: three departments
    "prefect": (("1.6", "review"), ("4.3.a", "review"), ("2.1.a", "review")),
    # 2.2.a: nobody reviews, the board approves, then it is published
    "worker": (("1.6", "review"), ("4.3.a", "review"), ("2.2.a", "approval")),
    # 6.3: five units review, the first answer decides
    "portal": (("4.3.a", "review"), ("6.3", "review"), ("2.2.a", "approval")),
    # 6.2: two units review; its process says silence at the deadline consents
    "deadline": (("6.2", "review"),) * 3,
}


@pytest.fixture(scope="module")
def waiting(stack: Stack) -> dict[str, list[Cycle]]:
    """The cycles of `PLANS`, opened together: one wave of runs instead of one per scenario."""
    return open_cycles(stack, PLANS)


# --- the faults, each undone when its block ends ---------------------------------------------


@contextlib.contextmanager
def smtp_down(stack: Stack) -> Iterator[None]:
    """The mail server stopped, then started again on its port with the same recorder."""
    assert stack.smtp is not None
    stack.smtp.stop()
    try:
        yield
    finally:
        stack.smtp.loop = asyncio.new_event_loop()  # aiosmtpd closes its loop when it stops
        stack.smtp.start()


@contextlib.contextmanager
def prefect_down(stack: Stack) -> Iterator[None]:
    """The worker and the Prefect server stopped; the server started again on its port and
    database (its runs survive), and a new worker."""
    assert stack.worker is not None
    stop(stack.worker)
    stop(stack.server.process)
    try:
        yield
    finally:
        restart_server(stack.server)
        stack.worker = start_worker(stack.server, stack.env)


@contextlib.contextmanager
def worker_replaced(stack: Stack) -> Iterator[None]:
    """Whatever the block does to the worker, a live one when it ends (a new one if it died)."""
    try:
        yield
    finally:
        assert stack.worker is not None
        if stack.worker.poll() is not None:
            stack.worker = start_worker(stack.server, stack.env)


def kill_worker(stack: Stack) -> None:
    """SIGKILL the worker and the flow-run processes it started, as when its machine dies."""
    worker = stack.worker
    assert worker is not None
    os.kill(worker.pid, signal.SIGSTOP)  # no run starts while its runs are listed: the fork
    for pid in descendants(worker.pid):  # server, the worker beside it, the runs' processes
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    runs = descendants(worker.pid)
    for pid in (worker.pid, *runs):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)


# --- cycles, mail and records ------------------------------------------------------------------


def open_cycles(
    stack: Stack, plans: Mapping[str, Sequence[tuple[str, str]]]
) -> dict[str, list[Cycle]]:
    """Per name, a cycle per (line, stage it first waits at), each with a draft: all started
    at once, returned once all are suspended."""
    opened = {name: [open_line(stack, code) for code, _ in waits] for name, waits in plans.items()}
    expected = [
        (cycle_id, run_id, stage)
        for name, waits in plans.items()
        for (cycle_id, run_id), (_, stage) in zip(opened[name], waits, strict=True)
    ]

    def settled() -> bool:
        while expected:
            cycle_id, run_id, stage = expected[0]
            if stage_of(stack.settings, cycle_id)[:2] != (stage, 1):
                return False
            if state_of(stack, run_id) != StateType.PAUSED:
                return False
            expected.pop(0)
        # A run reads Suspended a moment before its process has exited: the worker stopped in
        # that moment (`prefect_down`) would take it down as Crashed.
        assert stack.worker is not None
        return not [pid for pid in run_processes(stack.worker.pid) if alive(pid)]

    # Every run starts at once: on two busy cores (other tests beside, `make test` runs them in
    # parallel) the last may take a while.
    wait_for(settled, timeout=120 + 15 * len(expected), what=f"{len(expected)} cycles suspended")
    return opened


def requests_of(stack: Stack, cycles: Sequence[Cycle]) -> list[EmailMessage]:
    """Deliver the outbox; the requests (review or approval) these cycles sent, in order."""
    deliver(stack.settings)
    return [m for c, _ in cycles for m in stack.mail.of_cycle(c) if m["X-Duyet-Kind"] in REQUESTS]


def run_of(stack: Stack, cycle_id: str) -> str:
    """The flow run the records say drives the cycle now."""
    run_id = view_of(stack.settings, cycle_id).flow_run_id
    assert run_id is not None
    return run_id


def stages(stack: Stack, cycles: Sequence[Cycle]) -> list[str]:
    ids = [c for c, _ in cycles]
    query = select(ReviewCycle.id, ReviewCycle.stage).where(ReviewCycle.id.in_(ids))
    with session_scope(stack.settings.database_url) as session:
        found = {cycle_id: stage for cycle_id, stage in session.execute(query)}
    return [found[c] for c in ids]


def state_of(stack: Stack, run_id: str) -> StateType | None:
    state = stack.run(run_id).state
    return state.type if state is not None else None


@dataclass
class Ledgered:
    """What the records hold about some cycles, for exactly-once checks."""

    actions: dict[str, Counter[str]]  # audit actions by cycle
    advances: dict[str, Counter[tuple[str, str, int]]]  # (from, to, round) by cycle
    decisions: dict[str, int]
    silence: int  # decisions the silence rule wrote
    outbox: dict[str, list[Mail]]
    received: Counter[str]  # Message-IDs of these cycles' mail at the sink

    def message_ids(self) -> Counter[str]:
        return Counter(m.message_id for rows in self.outbox.values() for m in rows)


def ledgered(stack: Stack, cycles: Sequence[Cycle]) -> Ledgered:
    ids = [c for c, _ in cycles]
    actions: dict[str, Counter[str]] = {c: Counter() for c in ids}
    advances: dict[str, Counter[tuple[str, str, int]]] = {c: Counter() for c in ids}
    with session_scope(stack.settings.database_url) as session:
        for event in events(session):
            payload = json.loads(event.payload)
            cycle_id = payload.get("cycle_id")
            if cycle_id in actions:
                actions[cycle_id][event.action] += 1
                if event.action == "stage.advanced":
                    step = (payload["from_stage"], payload["to_stage"], payload["round"])
                    advances[cycle_id][step] += 1
        decisions = session.scalars(select(Decision).where(Decision.cycle_id.in_(ids))).all()
        mails = session.scalars(select(Mail).where(Mail.cycle_id.in_(ids))).all()
        session.expunge_all()
    received = Counter(str(m["Message-ID"]) for c in ids for m in stack.mail.of_cycle(c))
    return Ledgered(
        actions=actions,
        advances=advances,
        decisions={c: sum(d.cycle_id == c for d in decisions) for c in ids},
        silence=sum(d.comment == SILENCE_CONSENT for d in decisions),
        outbox={c: [m for m in mails if m.cycle_id == c] for c in ids},
        received=received,
    )


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in before}


def decide_on_portal(portal: PortalApp, message: EmailMessage) -> tuple[httpx.Response, float]:
    """Open the link and approve, as a reviewer's browser does; the receipt and its seconds."""
    token = token_in(message)
    page = portal.http.get(f"/r/{token}")
    start = time.monotonic()
    receipt = portal.http.post(f"/r/{token}", data={"csrf": csrf_in(page), "decision": "approve"})
    return receipt, time.monotonic() - start


# --- the scenarios -----------------------------------------------------------------------------


def test_the_mail_server_down_while_cycles_send_requests(stack: Stack, ledger: Ledger) -> None:
    url = stack.settings.database_url
    directory = definitions(stack.settings).directory
    before = counts(url)
    tries: list[tuple[int, DeliveryReport]] = []  # (requests queued then, the sender's pass)

    def sending_while_queued(cycles: list[Cycle]) -> bool:
        ids = [c for c, _ in cycles]
        with session_scope(url) as session:
            queued = len(session.scalars(select(Mail.id).where(Mail.cycle_id.in_(ids))).all())
        tries.append((queued, send_due(stack.settings, directory=directory)))
        return queued == 12 and all(state_of(stack, r) == StateType.PAUSED for _, r in cycles)

    with smtp_down(stack):
        # 2.1.a: three management departments review; 1.2: four units; 5.3: five
        cycles = [open_line(stack, code) for code in ("2.1.a", "1.2", "5.3")]
        # the sender keeps passing while the three runs queue their requests
        wait_for(lambda: sending_while_queued(cycles), timeout=120, what="12 requests queued")
        held = ledgered(stack, cycles)
    failed = [(queued, t) for queued, t in tries if queued]
    assert all(t.error and t.sent == t.failed == t.dead == 0 for _, t in failed), failed
    assert all(t.sent == 0 for _, t in tries)
    queued = [m for rows in held.outbox.values() for m in rows]
    assert len(queued) == 3 + 4 + 5 and {m.kind for m in queued} == {"review_request"}
    assert {(m.status, m.attempts) for m in queued} == {("pending", 0)}  # no attempt spent
    assert not held.received
    drained = send_due(stack.settings, directory=directory)
    again = send_due(stack.settings, directory=directory)
    after = counts(url)
    done = ledgered(stack, cycles)
    assert (drained.sent, drained.failed, drained.error) == (12, 0, None)
    assert (again.sent, again.error) == (0, None)
    assert done.received == done.message_ids() and set(done.received.values()) == {1}
    assert {m.status for rows in done.outbox.values() for m in rows} == {"sent"}
    assert after["mails"] == after["mails_sent"]  # the whole outbox is sent
    changed = delta(before, after)
    assert {k: changed[k] for k in ("cycles", "open", "versions", "decisions", "links_used")} == {
        "cycles": 3, "open": 3, "versions": 3, "decisions": 0, "links_used": 0
    }  # fmt: skip
    assert changed["mails"] == changed["mails_sent"] == 12
    ledger.record(
        Row(
            scenario="Mail server down while cycles send review requests",
            injected="aiosmtpd stopped while 3 cycles (2.1.a, 1.2, 5.3) queue requests, the "
            "sender passing every 0.25 s; server started again",
            before=before,
            after=after,
            observed=f"12 requests queued while down; {len(failed)} sender passes found the "
            "server down, 0 sent, 0 attempts spent; first pass after: 12 sent, each Message-ID "
            "once at the sink; outbox all sent",
            extra={
                "queued as the failed passes saw it": "→".join(
                    str(q) for q in sorted({q for q, _ in failed})
                ),
                "error while down": (failed[0][1].error or "")[:60],
                "sent after": drained.sent,
                "second pass": again.sent,
            },
        )
    )


def test_the_prefect_server_down_while_decisions_arrive(
    stack: Stack, waiting: dict[str, list[Cycle]], portal: PortalApp, ledger: Ledger
) -> None:
    url = stack.settings.database_url
    cycles = waiting["prefect"]
    requests = requests_of(stack, cycles)
    assert len(requests) == 1 + 1 + 3
    before = counts(url)
    with prefect_down(stack):
        assert stack.server.process.poll() is not None  # stopped
        answered = [decide_on_portal(portal, m) for m in requests]
        down = counts(url)
        assert stages(stack, cycles) == ["review"] * 3  # decided, but nobody moved them
    assert [r.status_code for r, _ in answered] == [200] * 5
    assert all("Đã ghi nhận" in r.text and 'id="receipt"' in r.text for r, _ in answered)
    assert delta(before, down)["decisions"] == 5
    assert [state_of(stack, r) for _, r in cycles] == [StateType.PAUSED] * 3  # runs survived
    assert stages(stack, cycles) == ["review"] * 3
    reconciled = asyncio.run(reconcile(stack.settings))  # what the sweeper's pass does
    assert sorted(r.action for r in reconciled) == ["resumed"] * 3
    for cycle_id, run_id in cycles:
        suspended_at(stack, cycle_id, run_id, "approval", 1)
    deliver(stack.settings)
    after = counts(url)
    done = ledgered(stack, cycles)
    assert done.decisions == {c: n for (c, _), n in zip(cycles, (1, 1, 3), strict=True)}
    assert all(a[("review", "approval", 1)] == 1 for a in done.advances.values())
    assert done.received == done.message_ids() and set(done.received.values()) == {1}
    changed = delta(before, after)
    assert {k: changed[k] for k in ("cycles", "open", "versions", "decisions", "links_used")} == {
        "cycles": 0, "open": 0, "versions": 0, "decisions": 5, "links_used": 5
    }  # fmt: skip
    assert changed["mails"] == changed["mails_sent"] == 3  # one approval request per cycle
    slowest = max(seconds for _, seconds in answered)
    ledger.record(
        Row(
            scenario="Prefect server down while decisions arrive at the portal",
            injected="worker and Prefect server stopped with 3 cycles suspended (1.6, 4.3.a, "
            "2.1.a); 5 approvals posted to the portal; server (same database) and worker "
            "restarted; the reconciler run",
            before=before,
            after=after,
            observed="5 receipts (HTTP 200), 5 decisions recorded while down, runs still "
            "suspended after the restart; the reconciler resumed all 3: each advanced to approval "
            "once, 0 decisions lost",
            extra={"slowest answer while down (s)": round(slowest, 2)},
        )
    )


def test_a_worker_killed_in_the_middle_of_a_stage(
    stack: Stack, waiting: dict[str, list[Cycle]], ledger: Ledger
) -> None:
    url = stack.settings.database_url
    waits, cycles = PLANS["worker"], waiting["worker"]
    requests = requests_of(stack, cycles)
    assert len(requests) == 3
    before = counts(url)
    assert [answer(stack.settings, m, A) for m in requests] == [Nudge.RESUMED] * 3
    with worker_replaced(stack):
        at_kill = kill_between_step_and_mail(stack, cycles)
        stuck = [state_of(stack, r) for _, r in cycles]  # what the killed worker left behind
        lost = [c for (c, _), state in zip(cycles, stuck, strict=True) if state in LIVE]
        caught = [c for c, where in at_kill.items() if where == "approval"]
        assert caught and set(caught) <= set(lost)  # killed with its step done, its mail not yet
        lease = 1.0
        time.sleep(lease + 0.2)  # the reconciler's lease, shortened for the test
        leased = get_settings({**stack.env, "DUYET_RUN_LEASE_SECONDS": str(lease)})
        reconciled = asyncio.run(reconcile(leased))  # before any worker could start a run
    assert sorted(r.cycle_id for r in reconciled if r.action == "restarted") == sorted(lost)
    assert {r.action for r in reconciled} <= {"restarted"}
    for cycle_id, _ in cycles[:2]:
        suspended_at(stack, cycle_id, run_of(stack, cycle_id), "approval", 1)
    published = cycles[2][0]
    stack.wait_state(run_of(stack, published), StateType.COMPLETED)
    assert view_of(stack.settings, published).status == "published"
    for cycle_id in lost:
        old = next(r for c, r in cycles if c == cycle_id)
        assert state_of(stack, old) == StateType.CRASHED and run_of(stack, cycle_id) != old
    deliver(stack.settings)
    after = counts(url)
    done = ledgered(stack, cycles)
    assert done.decisions == {c: 1 for c, _ in cycles}
    # Each step once (2.2.a passes through a review stage nobody is asked for).
    review, approval = ("draft", "review", 1), ("review", "approval", 1)
    publication = ("approval", "publication", 1)
    assert list(done.advances.values()) == [
        Counter([review, approval]),
        Counter([review, approval]),
        Counter([review, approval, publication]),
    ]
    assert [a["document.published"] for a in done.actions.values()] == [0, 0, 1]
    assert [a["document.issued"] for a in done.actions.values()] == [0, 0, 1]
    keys = Counter(
        (m.cycle_id, m.stage, m.round, m.recipient, m.kind)
        for rows in done.outbox.values()
        for m in rows
    )
    assert set(keys.values()) == {1}
    assert done.received == done.message_ids() and set(done.received.values()) == {1}
    changed = delta(before, after)
    assert {k: changed[k] for k in ("cycles", "open", "versions", "decisions", "links_used")} == {
        "cycles": 0, "open": -1, "versions": 0, "decisions": 3, "links_used": 3
    }  # fmt: skip
    mails = sum(len(rows) for rows in done.outbox.values())
    ledger.record(
        Row(
            scenario="Worker killed with SIGKILL in the middle of a stage",
            injected="3 cycles resumed (1.6, 4.3.a to approval; 2.2.a to publication); worker "
            "and its run processes SIGKILLed the moment a cycle was at approval with its "
            "approval request not yet queued; reconciler (lease cut to 1 s); a new worker",
            before=before,
            after=after,
            observed=f"runs left {', '.join(s.name for s in stuck if s)} after the kill; the "
            f"reconciler marked {len(lost)} lost runs Crashed and restarted them; each stage "
            f"advanced once, 1 decision and 1 publication where due, {mails} mails each "
            "queued and delivered once",
            extra={
                "at the kill": "; ".join(
                    f"{code}: {at_kill[c]} ({state.name if state else '-'})"
                    for (code, _), (c, _), state in zip(waits, cycles, stuck, strict=True)
                ),
            },
        )
    )


def kill_between_step_and_mail(stack: Stack, cycles: Sequence[Cycle]) -> dict[str, str]:
    """SIGKILL the worker and its runs the moment a cycle has moved to approval (its step
    committed) while its approval request is not queued yet; where each cycle was then."""
    ids = [c for c, _ in cycles]
    marks = ", ".join("?" * len(ids))
    # Read-only and outside any transaction: the records' own sessions take SQLite's write lock
    # at BEGIN, and polling with them would hold back the very runs being watched.
    path = make_url(stack.settings.database_url).database
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            at = dict(db.execute(f"SELECT id, stage FROM review_cycles WHERE id IN ({marks})", ids))
            asked = {
                row[0]
                for row in db.execute(
                    "SELECT cycle_id FROM mail_outbox WHERE kind = 'approval_request' "
                    f"AND cycle_id IN ({marks})",
                    ids,
                )
            }
            if any(at[c] == "approval" and c not in asked for c in ids):
                kill_worker(stack)
                return {c: at[c] + (", mail queued" if c in asked else "") for c in ids}
            time.sleep(0.01)
    raise AssertionError("no cycle was caught between its step and its mail")


def test_the_portal_dies_between_its_commit_and_its_resume(
    stack: Stack, waiting: dict[str, list[Cycle]], portal: PortalApp, ledger: Ledger
) -> None:
    url = stack.settings.database_url
    cycles = waiting["portal"]
    requests = requests_of(stack, cycles)
    chosen = [next(m for m in requests if m["X-Duyet-Cycle"] == c) for c, _ in cycles]
    before = counts(url)
    state = portal.state
    recorded = []
    for message in chosen:  # the portal's own code up to its commit, and no resume after it
        token = token_in(message)
        form = Answer(csrf=csrf_in(portal.http.get(f"/r/{token}")), decision="approve")
        recorded.append(
            record_answer(
                state.settings,
                state.definitions,
                state.keys,
                raw_token=token,
                answer=form,
                client=Client(ip="10.1.2.3", user_agent="faults"),
            )
        )
    assert all(isinstance(r, Recorded) for r in recorded)
    assert [view_of(stack.settings, c).decided for c, _ in cycles] == [True] * 3
    assert [state_of(stack, r) for _, r in cycles] == [StateType.PAUSED] * 3  # stuck
    first = asyncio.run(reconcile(stack.settings))
    for cycle_id, run_id in cycles[:2]:
        suspended_at(stack, cycle_id, run_id, "approval", 1)
    stack.wait_state(cycles[2][1], StateType.COMPLETED)
    second = asyncio.run(reconcile(stack.settings))
    deliver(stack.settings)
    after = counts(url)
    done = ledgered(stack, cycles)
    assert sorted((r.cycle_id, r.action) for r in first) == sorted(
        (c, "resumed") for c, _ in cycles
    )
    assert second == []
    assert view_of(stack.settings, cycles[2][0]).status == "published"
    assert done.decisions == {c: 1 for c, _ in cycles}
    assert all(set(a.values()) == {1} for a in done.advances.values())
    assert done.received == done.message_ids() and set(done.received.values()) == {1}
    changed = delta(before, after)
    assert {k: changed[k] for k in ("cycles", "open", "versions", "decisions", "links_used")} == {
        "cycles": 0, "open": -1, "versions": 0, "decisions": 3, "links_used": 3
    }  # fmt: skip
    ledger.record(
        Row(
            scenario="Portal gone between recording a decision and resuming the run",
            injected="3 approvals recorded through portal.answers.record_answer (4.3.a, 6.3, "
            "2.2.a) with no resume after the commit; reconciler run twice",
            before=before,
            after=after,
            observed="3 decisions on record, runs still suspended; the first reconcile resumed "
            "all 3 (two to approval, one published), the second found nothing to do",
            extra={"first reconcile": len(first), "second reconcile": len(second)},
        )
    )


def test_a_deadline_passes_while_everything_is_down(
    stack: Stack, waiting: dict[str, list[Cycle]], ledger: Ledger
) -> None:
    url = stack.settings.database_url
    cycles = waiting["deadline"]
    requests = requests_of(stack, cycles)
    assert len(requests) == 2 * 3
    assert answer(stack.settings, requests[0], A) == Nudge.UNDECIDED  # one unit of the first
    missing = sum(len(view_of(stack.settings, c).missing) for c, _ in cycles)
    before = counts(url)
    with prefect_down(stack):
        passed = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        with session_scope(url) as session:  # the deadline passes while nothing runs
            session.execute(
                update(ReviewCycle)
                .where(ReviewCycle.id.in_([c for c, _ in cycles]))
                .values(stage_deadline=passed)
            )
    assert stages(stack, cycles) == ["review"] * 3
    # Two passes of the sweeper deployment (its concurrency limit of 1 queues one behind the
    # other): the second comes while the cycles are still moving.
    sweeps = [stack.sweep(dt.datetime.now(dt.UTC)) for _ in range(2)]
    for cycle_id, run_id in cycles:
        suspended_at(stack, cycle_id, run_id, "approval", 1)
    deliver(stack.settings)
    after = counts(url)
    done = ledgered(stack, cycles)
    assert missing == 1 + 2 + 2
    assert done.silence == missing
    assert done.decisions == {c: 2 for c, _ in cycles}
    assert all(a[("review", "approval", 1)] == 1 for a in done.advances.values())
    assert done.received == done.message_ids() and set(done.received.values()) == {1}
    changed = delta(before, after)
    assert {k: changed[k] for k in ("cycles", "open", "versions", "decisions", "links_used")} == {
        "cycles": 0, "open": 0, "versions": 0, "decisions": missing, "links_used": 0
    }  # fmt: skip
    assert changed["mails"] == changed["mails_sent"] == 3  # one approval request per cycle
    ledger.record(
        Row(
            scenario="A deadline passes while everything is down (silence consents)",
            injected="worker and Prefect server stopped; the review deadline of 3 cycles of 6.2 "
            "moved 3 days into the past; restarted; the sweeper deployment run twice",
            before=before,
            after=after,
            observed=f"{missing} silent units, {done.silence} silence decisions, each written "
            "once; every cycle advanced to approval once",
            extra={"sweeps": len(sweeps), "silence decisions": done.silence},
        )
    )
