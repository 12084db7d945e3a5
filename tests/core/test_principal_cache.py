"""The in-memory token cache: bounded, expiring, evictable per user, race-safe."""

from __future__ import annotations

from datetime import UTC, datetime

from authgate.core.models import TokenPrincipal, TokenRecord, User
from authgate.core.principal_cache import PrincipalCache

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def principal(user_id: int, digest: str) -> TokenPrincipal:
    user = User(user_id, f"u{user_id}", "", "", "", "!", True, False, False, "USER", NOW, None)
    return TokenPrincipal(user, TokenRecord(digest, user_id, NOW, None, None))


class FakeTime:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    time = FakeTime()
    cache = PrincipalCache[TokenPrincipal](max_entries=10, ttl_seconds=5, monotonic=time)
    cache.put("a", principal(1, "a"), generation=cache.generation)
    assert cache.get("a") is not None
    time.now = 5.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_evicting_a_user_drops_all_their_tokens_only() -> None:
    cache = PrincipalCache[TokenPrincipal](max_entries=10, ttl_seconds=60)
    for digest, user_id in (("a", 1), ("b", 1), ("c", 2)):
        cache.put(digest, principal(user_id, digest), generation=cache.generation)
    cache.evict_users({1})
    assert (cache.get("a"), cache.get("b")) == (None, None)
    assert cache.get("c") is not None


def test_a_read_that_raced_an_eviction_is_not_cached() -> None:
    cache = PrincipalCache[TokenPrincipal](max_entries=10, ttl_seconds=60)
    generation = cache.generation
    cache.evict_users({1})  # the user changed while the read was in flight
    cache.put("a", principal(1, "a"), generation=generation)
    assert cache.get("a") is None


def test_size_is_bounded_oldest_out_first() -> None:
    cache = PrincipalCache[TokenPrincipal](max_entries=2, ttl_seconds=60)
    for index, digest in enumerate("abc"):
        cache.put(digest, principal(index, digest), generation=cache.generation)
    assert len(cache) == 2
    assert cache.get("a") is None
    assert cache.get("c") is not None


def test_zero_size_disables_the_cache() -> None:
    cache = PrincipalCache[TokenPrincipal](max_entries=0, ttl_seconds=60)
    cache.put("a", principal(1, "a"), generation=cache.generation)
    assert not cache.enabled
    assert cache.get("a") is None
