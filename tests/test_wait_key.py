"""Suspension keys: Prefect's run-input keys take lowercase letters, digits and dashes only."""

from __future__ import annotations

import re

import pytest

from flows.review_cycle import wait_key

KEY = re.compile(r"^[a-z0-9-]+$")


@pytest.mark.parametrize(
    ("stage", "round", "attempt", "expected"),
    [
        ("review", 2, 0, "review-r2"),
        ("review", 2, 1, "review-r2-1"),
        ("review.opinions", 1, 0, "review-opinions-r1"),
        ("approval.issuance", 3, 2, "approval-issuance-r3-2"),
    ],
)
def test_keys_are_unique_per_place_and_in_prefects_alphabet(
    stage: str, round: int, attempt: int, expected: str
) -> None:
    key = wait_key(stage, round, attempt)
    assert key == expected and KEY.match(key)
