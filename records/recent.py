"""What a long-lived process read last, kept for the next reader: for records that never change
once written (a plan version's lines, a document's bytes by their sha256, what is derived from
them), so a cached value is never stale."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _one(_value: object) -> int:
    return 1


class Recent(Generic[K, V]):
    """At most `limit` in weight (one a value, unless `weigh` says otherwise): the least recently
    used value goes first. Safe to share between threads."""

    def __init__(self, limit: int, weigh: Callable[[V], int] = _one) -> None:
        self._limit = limit
        self._weigh = weigh
        self._values: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        found = self._found(key)
        return None if found is None else found[0]

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, else `make()`'s, kept (made outside the lock: two threads
        may both make it; a value of these records is the same whoever makes it)."""
        found = self._found(key)
        return found[0] if found is not None else self.put(key, make())

    def _found(self, key: K) -> tuple[V, int] | None:
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> V:
        """Keep `value` (unless it alone outweighs the limit) and return it."""
        weight = self._weigh(value)
        if weight > self._limit:
            return value
        with self._lock:
            replaced = self._values.pop(key, None)
            if replaced is not None:
                self._weight -= replaced[1]
            self._values[key] = (value, weight)
            self._weight += weight
            while self._weight > self._limit:
                _, (_, gone) = self._values.popitem(last=False)
                self._weight -= gone
        return value

    def __len__(self) -> int:
        return len(self._values)
