"""Password hashing and Django's validators, called on the core directly."""

from __future__ import annotations

import asyncio

import pytest

from authgate.core.passwords import Passwords, common_passwords

# Made by Django 5.2's make_password("lètmein-Django-1", "seasalt0123456789", "pbkdf2_sha256").
DJANGO_PBKDF2 = (
    "pbkdf2_sha256$1000000$seasalt0123456789$3BdR701G/3kMAfhuTqemVvTqRFmqh5swfO8pHUkpiN8="
)


def make_passwords() -> Passwords:
    return Passwords(time_cost=2, memory_cost_kib=19456, parallelism=1, min_length=8, threads=1)


def test_argon2id_at_owasp_parameters_round_trips() -> None:
    passwords = make_passwords()
    encoded = asyncio.run(passwords.hash("Correct-Horse-9"))
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert asyncio.run(passwords.verify("Correct-Horse-9", encoded)).matches
    assert not asyncio.run(passwords.verify("correct-horse-9", encoded)).matches


def test_django_pbkdf2_hash_verifies_and_asks_for_an_upgrade() -> None:
    outcome = asyncio.run(make_passwords().verify("lètmein-Django-1", DJANGO_PBKDF2))
    assert (outcome.matches, outcome.needs_rehash) == (True, True)
    assert not asyncio.run(make_passwords().verify("letmein-Django-1", DJANGO_PBKDF2)).matches


def test_weaker_argon2_hash_asks_for_an_upgrade() -> None:
    weak = Passwords(time_cost=2, memory_cost_kib=19456, parallelism=1, min_length=8, threads=1)
    strong = Passwords(time_cost=3, memory_cost_kib=19456, parallelism=1, min_length=8, threads=1)
    encoded = asyncio.run(weak.hash("Correct-Horse-9"))
    assert asyncio.run(strong.verify("Correct-Horse-9", encoded)).needs_rehash


def test_unknown_and_unusable_hashes_never_match() -> None:
    passwords = make_passwords()
    for encoded in (None, "!", "!unusable", "md5$abc$def", ""):
        assert not asyncio.run(passwords.verify("anything", encoded)).matches


def test_the_dummy_hash_is_made_by_the_first_password_operation_not_at_construction() -> None:
    """Hashing while the service starts would add argon2id's memory to every worker's peak;
    the first operation makes the dummy on the hashing pool, whatever its user, and the dummy
    then has the settings' parameters (an unknown user's check costs a real one's)."""
    passwords = make_passwords()
    assert passwords._dummy_hash is None
    assert not asyncio.run(passwords.verify("anything", None)).matches
    dummy = passwords._dummy_hash
    assert dummy is not None
    assert dummy.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    asyncio.run(passwords.hash("Correct-Horse-9"))
    assert passwords._dummy_hash == dummy  # made once
    first_hash = make_passwords()
    asyncio.run(first_hash.hash("Correct-Horse-9"))
    assert first_hash._dummy_hash is not None


def test_common_password_list_is_shipped() -> None:
    assert len(common_passwords()) >= 19_000
    assert "password" in common_passwords()


def test_validators_in_djangos_order() -> None:
    codes = [m.code for m in make_passwords().validate("johnsmith", {"username": "johnsmith"})]
    assert codes == ["password_too_similar"]
    codes = [m.code for m in make_passwords().validate("1234", {"username": "x"})]
    assert codes == ["password_too_short", "password_too_common", "password_entirely_numeric"]
    assert (
        make_passwords().validate("Correct-Horse-9", {"username": "john", "email": "j@example.com"})
        == []
    )
    similar = make_passwords().validate("example77", {"email": "someone@example.com"})
    assert [(m.code, dict(m.params)) for m in similar] == [
        ("password_too_similar", {"verbose_name": "email"})
    ]


def test_workers_share_the_cores_out_for_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from authgate.composition import hash_threads_per_worker

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    assert [hash_threads_per_worker(n) for n in (1, 2, 3, 4, 8)] == [4, 2, 1, 1, 1]
