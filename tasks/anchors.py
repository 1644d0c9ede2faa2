"""Anchors of the audit chain kept on the Prefect server, out of reach of the records database.

The sweeper publishes the chain's head as a table artifact (key `audit-anchor`) whenever it has
moved; `duyet audit verify` reads the latest ones back and checks the chain still holds them.
Rewriting the records consistently, or cutting their tail, then also needs write access to the
Prefect server: two systems, kept and backed up apart.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from prefect import task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from duyet.settings import get_settings
from records import audit
from records.engine import read_scope

ANCHOR_KEY = "audit-anchor"
DESCRIPTION = "Mốc đầu chuỗi nhật ký kiểm toán (seq, mã băm), để đối chiếu khi kiểm tra chuỗi."


async def published_anchors(limit: int = 50, timezone: str = "UTC") -> list[audit.Anchor]:
    """The latest anchors on the Prefect server of the current settings, newest first, each
    dated when it was published (in `timezone`)."""
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ANCHOR_KEY])),
            sort=ArtifactSort.CREATED_DESC,
            limit=limit,
        )
    zone = ZoneInfo(timezone)
    return [
        audit.Anchor(seq, digest, f"{artifact.created.astimezone(zone):%H:%M:%S %d/%m/%Y}")
        for artifact in found
        if artifact.created is not None
        for seq, digest in _rows(artifact.data)
    ]


def _rows(data: Any) -> list[tuple[int, str]]:
    rows = json.loads(data) if isinstance(data, str) else data
    if not isinstance(rows, list):
        return []
    return [
        (int(row["seq"]), str(row["hash"]))
        for row in rows
        if isinstance(row, dict) and "seq" in row and "hash" in row
    ]


@task(cache_policy=NO_CACHE, persist_result=False, retries=2, retry_delay_seconds=5)
async def anchor_audit_chain() -> int | None:
    """Publish the chain's head unless the latest anchor already holds it; its seq, or None."""
    with read_scope(get_settings().database_url) as session:
        current = audit.head(session)
    if current is None:
        return None
    latest = await published_anchors(limit=1)
    if latest and latest[0].seq == current.seq:
        return None
    row = {"seq": current.seq, "hash": current.hash, "at": current.at}
    await acreate_table_artifact([row], key=ANCHOR_KEY, description=DESCRIPTION)
    return current.seq
