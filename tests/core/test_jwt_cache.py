"""The caches in front of JWT checks: verdicts that expire with the token, users evictable."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from authgate.core.jwt_cache import SubjectCache, VerifiedTokens
from authgate.core.models import User

NONE_ENDED: frozenset[str] = frozenset()

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def user(user_id: int) -> User:
    return User(user_id, f"u{user_id}", "", "", "", "!", True, False, False, "USER", NOW, None)


class FakeTime:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_forgotten_once_expired() -> None:
    tokens = VerifiedTokens(max_entries=10, leeway_seconds=0)
    tokens.put("live", {"exp": time.time() + 60})
    tokens.put("dead", {"exp": time.time() - 1})
    assert tokens.get("live") is not None
    assert tokens.get("dead") is None
    assert tokens.get("never-seen") is None
    assert len(tokens) == 1


def test_leeway_extends_a_cached_verdict_as_it_does_pyjwts() -> None:
    tokens = VerifiedTokens(max_entries=10, leeway_seconds=30)
    tokens.put("late", {"exp": time.time() - 10})
    assert tokens.get("late") is not None


def test_verified_tokens_are_bounded_oldest_out_first_and_zero_disables() -> None:
    tokens = VerifiedTokens(max_entries=2, leeway_seconds=0)
    for raw in ("a", "b", "c"):
        tokens.put(raw, {"exp": time.time() + 60})
    assert (tokens.get("a"), len(tokens)) == (None, 2)
    off = VerifiedTokens(max_entries=0, leeway_seconds=0)
    off.put("a", {"exp": time.time() + 60})
    assert off.get("a") is None


def test_subjects_expire_and_are_evicted_per_user() -> None:
    clock = FakeTime()
    subjects = SubjectCache(max_entries=10, ttl_seconds=5, monotonic=clock)
    for user_id in (1, 2):
        subjects.put(user_id, (user(user_id), 0, NONE_ENDED), generation=subjects.generation)
    subjects.evict_users({1})
    assert subjects.get(1) is None
    assert subjects.get(2) == (user(2), 0, NONE_ENDED)
    clock.now = 5.1
    assert subjects.get(2) is None


def test_a_subject_read_that_raced_an_eviction_is_not_cached() -> None:
    subjects = SubjectCache(max_entries=10, ttl_seconds=60)
    before = subjects.generation
    subjects.evict_users({1})  # e.g. a password change landed while the store was read
    subjects.put(1, (user(1), 0, NONE_ENDED), generation=before)
    assert subjects.get(1) is None
    subjects.put(1, (user(1), 1, NONE_ENDED), generation=subjects.generation)
    assert subjects.get(1) == (user(1), 1, NONE_ENDED)
    subjects.clear()
    assert len(subjects) == 0


def test_subjects_are_bounded_and_zero_disables() -> None:
    subjects = SubjectCache(max_entries=1, ttl_seconds=60)
    subjects.put(1, (user(1), 0, NONE_ENDED), generation=subjects.generation)
    subjects.put(2, (user(2), 0, NONE_ENDED), generation=subjects.generation)
    assert (subjects.get(1), len(subjects)) == (None, 1)
    off = SubjectCache(max_entries=10, ttl_seconds=0)
    off.put(1, (user(1), 0, NONE_ENDED), generation=off.generation)
    assert off.get(1) is None


def test_cached_claims_share_their_names_and_keep_their_values() -> None:
    """JSON decoding makes every token's claim names anew; the cache keeps one copy of each."""
    import json

    tokens = VerifiedTokens(max_entries=10, leeway_seconds=0)
    exp = int(time.time()) + 60
    for raw, jti in (("a", "j1"), ("b", "j2")):
        tokens.put(raw, json.loads(json.dumps({"token_type": "access", "exp": exp, "jti": jti})))
    first, second = tokens.get("a"), tokens.get("b")
    assert first is not None
    assert second is not None
    assert first.claims == {"token_type": "access", "exp": exp, "jti": "j1"}
    assert second.claims["jti"] == "j2"
    assert [id(name) for name in first.claims] == [id(name) for name in second.claims]
