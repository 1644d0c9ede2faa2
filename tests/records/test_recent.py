"""The per-process cache of records that never change (`records.recent.Recent`)."""

from __future__ import annotations

import threading

from records.recent import Recent


def test_the_least_recently_used_goes_first_when_over_the_limit() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # "b" is now the least recently used
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    assert len(recent) == 2


def test_weighed_values_are_bounded_by_their_total_weight() -> None:
    recent: Recent[str, str] = Recent(10, len)
    recent.put("six", "xxxxxx")
    recent.put("four", "xxxx")
    assert len(recent) == 2
    recent.put("three", "xxx")  # 13 > 10: the oldest goes
    assert recent.get("six") is None and recent.get("four") == "xxxx"
    recent.put("four", "x")  # replaced: its old weight no longer counts
    recent.put("five", "xxxxx")
    assert recent.get("three") == "xxx" and recent.get("five") == "xxxxx"


def test_a_value_heavier_than_the_limit_is_returned_but_not_kept() -> None:
    recent: Recent[str, str] = Recent(3, len)
    recent.put("small", "xx")
    assert recent.put("big", "xxxxx") == "xxxxx"
    assert recent.get("big") is None and recent.get("small") == "xx"


def test_threads_share_it_without_losing_count() -> None:
    recent: Recent[int, int] = Recent(50)

    def fill(start: int) -> None:
        for i in range(start, start + 1000):
            recent.put(i % 200, i)
            recent.get((i + 7) % 200)

    threads = [threading.Thread(target=fill, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recent) == 50


def test_get_or_make_makes_a_value_once_even_none() -> None:
    recent: Recent[str, str | None] = Recent(10)
    made: list[str] = []

    def make() -> str | None:
        made.append("x")
        return None  # a document that is not text

    assert recent.get_or_make("pdf", make) is None
    assert recent.get_or_make("pdf", make) is None
    assert made == ["x"]
