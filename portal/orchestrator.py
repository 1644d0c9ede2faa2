"""The portal's way to the Prefect API: the URL is captured when the app is built, so that every
request (whatever thread or task serves it) talks to the same server, and a portal without
`PREFECT_API_URL` never starts an ephemeral in-process Prefect server behind anyone's back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

import httpx
import prefect.context
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, Settings

HEALTH_TIMEOUT = 2.0


class PrefectUnavailable(Exception):
    """No Prefect API is configured for this portal (`PREFECT_API_URL`)."""


@dataclass(frozen=True)
class RunState:
    flow_run_id: str
    at: dt.datetime
    type: str
    name: str
    message: str


@dataclass(frozen=True)
class Orchestrator:
    api_url: str | None

    @classmethod
    def current(cls) -> Orchestrator:
        """The Prefect API of the current Prefect settings (environment or context)."""
        url = PREFECT_API_URL.value()
        return cls(str(url).rstrip("/") if url else None)

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Run Prefect client code against this portal's API."""
        if self.api_url is None:
            raise PrefectUnavailable()
        # What `temporary_settings` does, without rebuilding Prefect's settings (tens of ms,
        # hundreds under load) on every POST: the copy is made once per base settings and URL.
        context = prefect.context.get_settings_context()
        settings = _with_api_url(context.settings, self.api_url)
        with prefect.context.SettingsContext(profile=context.profile, settings=settings):
            yield

    async def healthy(self, timeout: float = HEALTH_TIMEOUT) -> bool:
        if self.api_url is None:
            return False
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.get(f"{self.api_url}/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def state_history(self, flow_run_ids: Sequence[str]) -> list[RunState]:
        """Every state each run went through, oldest first (runs that are gone are skipped)."""
        found: list[RunState] = []
        with self.scope():
            async with get_client() as client:
                for run_id in flow_run_ids:
                    try:
                        states = await client.read_flow_run_states(UUID(run_id))
                    except (ValueError, httpx.HTTPStatusError):
                        continue
                    found.extend(
                        RunState(
                            flow_run_id=run_id,
                            at=state.timestamp,
                            type=state.type.value,
                            name=state.name or state.type.value,
                            message=state.message or "",
                        )
                        for state in states
                        if state.timestamp is not None
                    )
        return sorted(found, key=lambda s: s.at)


_SCOPED: dict[tuple[int, str], tuple[Settings, Settings]] = {}


def _with_api_url(base: Settings, api_url: str) -> Settings:
    """`base` with `PREFECT_API_URL` set, made once (the base is kept, so its id stays its own)."""
    key = (id(base), api_url)
    found = _SCOPED.get(key)
    if found is None or found[0] is not base:
        if len(_SCOPED) >= 16:  # tests enter many settings contexts; a portal, one or two
            _SCOPED.clear()
        found = (base, base.copy_with_update(updates={PREFECT_API_URL: api_url}))
        _SCOPED[key] = found
    return found[1]
