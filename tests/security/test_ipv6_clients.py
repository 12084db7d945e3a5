"""Issue 11, item 12: one IPv6 host, many addresses.

A host gets a whole /64 from its provider and may send each request from another address in
it; counted address by address it would have 2**64 budgets. Every per-client limit counts an
IPv6 client by its network of AUTHGATE_THROTTLE_IPV6_PREFIX bits (64 by default), and an
IPv4-mapped address (::ffff:192.0.2.9) as the IPv4 address; the audit log still shows each
address as it was.

The server trusts 127.0.0.1 as a proxy, so each request names its client in X-Forwarded-For.
Each test draws networks of its own (counters in Redis outlive a run).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.http.callers import ClientAddresses
from authgate.settings import Settings
from tests.support import Api, run_cli

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
COUNTERS = [
    "memory",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(REDIS_URL is None, reason="AUTHGATE_TEST_REDIS_URL is not set"),
    ),
]
LIMIT = 5
ROOT_PASSWORD = "Root-Horse-Battery-9"


def _serve(serve: Callable[..., Api], counters: str = "memory", **overrides: Any) -> Api:
    return serve(
        trusted_proxies=["127.0.0.1/32"],
        lockout_enabled=False,
        redis_url=REDIS_URL if counters == "redis" else None,
        throttle_login_per_client=f"{LIMIT}/minute",
        throttle_login_per_account="1000/minute",
        **overrides,
    )


def _network48() -> str:
    """A random /48 of the documentation range, as "2001:db8:xxxx"."""
    return f"2001:db8:{secrets.randbits(16):x}"


def _login(api: Api, address: str) -> httpx.Response:
    """A failed login of an unknown user (a name of its own each time: only the client
    address's budget is at stake) from `address`."""
    body = {"username": f"ghost{secrets.token_hex(4)}", "password": "Wrong-Horse-1"}
    return api.http.post("/auth/token/login/", json=body, headers={"X-Forwarded-For": address})


@pytest.mark.parametrize("counters", COUNTERS)
def test_addresses_of_one_ipv6_64_share_one_login_budget(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], counters: str
) -> None:
    api = _serve(serve, counters)
    prefix = f"{_network48()}:1"  # one /64
    addresses = [f"{prefix}:{secrets.randbits(16):x}::{n + 1:x}" for n in range(LIMIT + 1)]
    answers = [_login(api, address) for address in addresses]
    assert [r.status_code for r in answers[:LIMIT]] == [400] * LIMIT
    assert answers[LIMIT].status_code == 429, answers[LIMIT].text
    assert int(answers[LIMIT].headers["retry-after"]) >= 1
    # The next /64 is another client, with a budget of its own.
    assert _login(api, f"{_network48()}:2::1").status_code == 400
    # The audit log keeps each address as it was, not the /64.
    run_cli(
        make_settings(),
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        password=ROOT_PASSWORD,
    )
    login = {"username": "root", "password": ROOT_PASSWORD}
    root = api.http.post("/auth/token/login/", json=login, headers={"X-Forwarded-For": "192.0.2.1"})
    auth = {"Authorization": f"Token {root.json()['auth_token']}"}
    entries = api.http.get("/api/audit/", params={"event": "login"}, headers=auth).json()
    logged = {entry["address"] for entry in entries}
    assert set(addresses[:LIMIT]) <= logged


def test_ipv4_mapped_ipv6_addresses_count_as_the_ipv4_address(
    serve: Callable[..., Api],
) -> None:
    api = _serve(serve)
    ipv4 = f"198.51.100.{secrets.randbelow(250) + 1}"
    forms = [ipv4, f"::ffff:{ipv4}", f"::ffff:{ipv4}", ipv4, f"0:0:0:0:0:ffff:{ipv4}"]
    assert [_login(api, address).status_code for address in forms] == [400] * LIMIT
    assert _login(api, f"::ffff:{ipv4}").status_code == 429
    assert _login(api, ipv4).status_code == 429


def test_the_prefix_length_is_a_setting(serve: Callable[..., Api]) -> None:
    api = _serve(serve, throttle_ipv6_prefix=48)
    network = _network48()
    # Each from another /64 of one /48: one client at this setting.
    answers = [_login(api, f"{network}:{n + 1:x}::1") for n in range(LIMIT + 1)]
    assert [r.status_code for r in answers] == [400] * LIMIT + [429]


def test_registration_and_name_probes_count_by_the_64_too(serve: Callable[..., Api]) -> None:
    """The other per-client limits go by the same key: sign-ups, and lookups of taken names."""
    api = _serve(
        serve, throttle_register_per_client=f"{LIMIT}/hour", throttle_probe_per_client="1000/hour"
    )
    prefix = f"{_network48()}:7"
    answers = [
        api.http.post(
            "/auth/users/",
            json={"username": f"user{n}", "password": "Correct-Horse-9"},
            headers={"X-Forwarded-For": f"{prefix}::{n + 1:x}"},
        )
        for n in range(LIMIT + 1)
    ]
    assert [r.status_code for r in answers] == [201] * LIMIT + [429]
    api = _serve(
        serve, throttle_register_per_client="1000/hour", throttle_probe_per_client=f"{LIMIT}/hour"
    )
    api.register("victim")
    probes = [
        api.http.post(
            "/auth/users/",
            json={"username": "victim", "password": "Correct-Horse-9"},
            headers={"X-Forwarded-For": f"{prefix}::{n + 100:x}"},
        )
        for n in range(LIMIT + 1)
    ]
    assert [r.status_code for r in probes] == [400] * LIMIT + [429]


def test_a_trusted_proxy_seen_through_a_dual_stack_socket_is_still_trusted() -> None:
    """A dual-stack listener shows an IPv4 peer as ::ffff:a.b.c.d: it is the same proxy."""
    scope = {
        "type": "http",
        "client": ("::ffff:10.0.0.5", 50000),
        "headers": [(b"x-forwarded-for", b"2001:db8:5::1")],
    }
    assert ClientAddresses(["10.0.0.0/8"]).of(scope) == "2001:db8:5::1"
