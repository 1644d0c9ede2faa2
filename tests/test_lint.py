"""Numbering checks among siblings, in Vietnamese alphabetical order."""

from __future__ import annotations

from definitions.lint import check_numbering


def test_a_gap_in_numbers_is_named() -> None:
    found = check_numbering([("3.1", 2), ("3.2", 3), ("3.4", 4)])
    assert [(f.code, f.params["code"], f.line) for f in found] == [("missing-code", "3.3", 4)]


def test_dd_sits_between_d_and_e() -> None:
    letters = ["a", "b", "c", "d", "đ", "e", "g", "h", "i", "k"]
    assert check_numbering([(f"2.2.{x}", n) for n, x in enumerate(letters)]) == []
    found = check_numbering([("2.2.d", 1), ("2.2.e", 2)])
    assert [f.params["code"] for f in found] == ["2.2.a", "2.2.b", "2.2.c", "2.2.đ"]


def test_duplicates_are_errors_and_disorder_is_warned() -> None:
    found = check_numbering([("1.1", 1), ("1.2", 2), ("1.2", 3), ("1.4", 4), ("1.3", 5)])
    assert [(f.code, f.severity.value, f.params["code"], f.line) for f in found] == [
        ("duplicate-code", "error", "1.2", 3),
        ("missing-code", "warning", "1.3", 4),
        ("out-of-order", "warning", "1.3", 5),
    ]
