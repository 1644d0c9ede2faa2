"""Resolve the unit names written in a plan cell to unit and group ids of the directory."""

from __future__ import annotations

import re
from dataclasses import dataclass

from definitions.findings import Finding
from definitions.text import collapse, fold
from definitions.units import UnitDirectory

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SEPARATORS = {",", ";", "và", "/", "+", "&", "hoặc"}
_IGNORED = {".", "(", ")", ":"}
_ARTICLES = {"các", "những"}


@dataclass(frozen=True)
class Resolution:
    refs: list[str]  # unit/group ids, or the raw text of names that did not resolve
    findings: list[Finding]


@dataclass(frozen=True)
class _Token:
    key: str
    start: int
    end: int


@dataclass(frozen=True)
class _Target:
    ref: str
    is_unit: bool  # False: a name the directory knows is not a unit


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(fold(m.group()), m.start(), m.end())
        for m in _TOKEN.finditer(text)
        if m.group() not in _IGNORED
    ]


def _alias_key(name: str) -> tuple[str, ...]:
    keys = [t.key for t in _tokens(name)]
    while keys and keys[0] in _ARTICLES:
        keys.pop(0)
    return tuple(keys)


class UnitResolver:
    """Longest-alias matching over the tokens of a cell; separators split what is left."""

    def __init__(self, directory: UnitDirectory) -> None:
        self._aliases: dict[tuple[str, ...], _Target] = {}
        for unit in directory.units:
            self._add(unit.id, True, unit.name, *unit.aliases)
        for group in directory.groups:
            self._add(group.id, True, group.name, *group.aliases)
        for other in directory.non_units:
            self._add(other.id, False, other.name, *other.aliases)
        self._longest = max((len(k) for k in self._aliases), default=0)

    def _add(self, ref: str, is_unit: bool, *names: str) -> None:
        for name in names:
            key = _alias_key(name)
            known = self._aliases.get(key)
            if known is not None and known.ref != ref:
                raise ValueError(f"alias {name!r} names both {known.ref} and {ref}")
            self._aliases[key] = _Target(ref, is_unit)

    def _match_at(self, keys: list[str], i: int) -> tuple[_Target, int] | None:
        start = i + 1 if i < len(keys) and keys[i] in _ARTICLES else i
        for length in range(min(self._longest, len(keys) - start), 0, -1):
            target = self._aliases.get(tuple(keys[start : start + length]))
            if target is not None and self._at_boundary(keys, start + length):
                return target, start + length
        return None

    def _at_boundary(self, keys: list[str], i: int) -> bool:
        return i >= len(keys) or keys[i] in _SEPARATORS or self._match_at(keys, i) is not None

    def resolve(self, cell: str, *, field: str, line: int | None = None) -> Resolution:
        """Ids for the names in `cell`; what does not resolve is kept as written, with a finding."""
        text = collapse(cell)
        tokens = _tokens(text)
        keys = [t.key for t in tokens]
        refs: list[str] = []
        findings: list[Finding] = []
        pending: list[_Token] = []

        def flush() -> None:
            if pending:
                raw = text[pending[0].start : pending[-1].end]
                refs.append(raw)
                findings.append(
                    Finding(code="unresolved-unit", params={"name": raw, "field": field}, line=line)
                )
                pending.clear()

        i = 0
        while i < len(tokens):
            matched = self._match_at(keys, i)
            if matched is not None:
                flush()
                target, end = matched
                raw = text[tokens[i].start : tokens[end - 1].end]
                if not target.is_unit:
                    refs.append(raw)
                    findings.append(
                        Finding(code="not-a-unit", params={"name": raw, "field": field}, line=line)
                    )
                elif target.ref in refs:
                    findings.append(
                        Finding(
                            code="duplicate-unit",
                            params={"name": raw, "field": field},
                            line=line,
                        )
                    )
                else:
                    refs.append(target.ref)
                i = end
            elif keys[i] in _SEPARATORS:
                flush()
                i += 1
            else:
                pending.append(tokens[i])
                i += 1
        flush()
        return Resolution(refs=refs, findings=findings)
