"""The client address throttling counts by: the peer, or X-Forwarded-For from trusted proxies."""

from __future__ import annotations

from authgate.http.callers import ClientAddresses


def _scope(peer: str, *forwarded: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 50000), "headers": headers}


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    clients = ClientAddresses([])
    assert clients.of(_scope("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client_nearest_hop_first() -> None:
    clients = ClientAddresses(["10.0.0.0/8"])
    # The client may send its own header: only the hop the proxy appended counts.
    assert clients.of(_scope("10.0.0.5", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert clients.of(_scope("10.0.0.5", "198.51.100.7, 10.0.0.9")) == "198.51.100.7"
    assert clients.of(_scope("10.0.0.5", "6.6.6.6", "198.51.100.7")) == "198.51.100.7"


def test_garbage_in_the_header_falls_back_to_the_peer() -> None:
    clients = ClientAddresses(["10.0.0.0/8"])
    assert clients.of(_scope("10.0.0.5", "not-an-ip")) == "10.0.0.5"
    assert clients.of(_scope("10.0.0.5")) == "10.0.0.5"
    assert ClientAddresses([]).of({"type": "http", "headers": []}) is None
