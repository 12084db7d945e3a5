"""http/answer_heads.py: the cycle writing prepared header lines puts on the wire exactly the
bytes uvicorn's own cycle writes, for every kind of answer head, and refuses what uvicorn
refuses."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from authgate.http.answer_heads import LEARNED_MAX, HeadLines, KnownHeadersCycle, header_lines
from authgate.http.fast_lane import JSON_TYPE
from authgate.http.security_headers import security_headers
from tests.support import run

SECURITY = security_headers(hsts_seconds=3600, hsts_include_subdomains=True)
DATE = [(b"date", b"Sun, 06 Dec 2026 02:30:00 GMT")]
JSON_BODY = b'{"id":1}'
LENGTH = (b"content-length", str(len(JSON_BODY)).encode())
LINES = HeadLines(SECURITY)  # one per server: shared by every cycle, as by a protocol's


class Transport:
    """What the cycle writes, and whether it closed the connection."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0


async def writes(
    cycle_class: type[RequestResponseCycle],
    messages: list[dict[str, Any]],
    *,
    method: str = "GET",
    keep_alive: bool = True,
    defaults: list[tuple[bytes, bytes]] = DATE,
    lines: HeadLines = LINES,
    disconnect_after_start: bool = False,
    pause_after_start: bool = False,
    transport: Transport | None = None,
) -> tuple[list[bytes], bool, bool]:
    """The writes a cycle of `cycle_class` makes for `messages` (on `transport`, if given),
    whether it closed the connection, and whether it took the answer as complete."""
    transport = transport or Transport()
    cycle = cycle_class(
        scope={"method": method},  # type: ignore[typeddict-item]
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=defaults,
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )
    if isinstance(cycle, KnownHeadersCycle):
        cycle.head_lines = lines
    for message in messages:
        await cycle.send(message)  # type: ignore[arg-type]
        if message["type"] == "http.response.start":
            cycle.disconnected = disconnect_after_start
            if pause_after_start:
                cycle.flow.pause_writing()
                asyncio.get_running_loop().call_soon(cycle.flow.resume_writing)
    return transport.written, transport.closed, cycle.response_complete


async def wire(
    cycle_class: type[RequestResponseCycle], messages: list[dict[str, Any]], **options: Any
) -> tuple[bytes, bool, bool]:
    """The bytes on the wire (whatever the writes), whether the connection was closed, and
    whether the answer was complete."""
    written, closed, complete = await writes(cycle_class, messages, **options)
    return b"".join(written), closed, complete


def answer(headers: list[Any], body: bytes = JSON_BODY, status: int = 200) -> list[Any]:
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


ANSWERS: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "the lane's": (answer([JSON_TYPE, LENGTH, *SECURITY]), {}),
    "the lane's, an id echoed": (
        answer([JSON_TYPE, LENGTH, *SECURITY, (b"x-request-id", b"abc")]),
        {},
    ),
    "headers as lists": (answer([list(JSON_TYPE), list(LENGTH), *map(list, SECURITY)]), {}),
    "capitalized names": (answer([(b"Content-Type", b"application/json"), LENGTH]), {}),
    "no length: chunked": (
        [
            {"type": "http.response.start", "status": 200, "headers": [JSON_TYPE, *SECURITY]},
            {"type": "http.response.body", "body": b"{", "more_body": True},
            {"type": "http.response.body", "body": b"}"},
        ],
        {},
    ),
    "a HEAD": (answer([JSON_TYPE, *SECURITY], body=b""), {"method": "HEAD"}),
    "a 204": (answer([*SECURITY], body=b"", status=204), {}),
    "connection: close": (answer([JSON_TYPE, LENGTH, (b"connection", b"close")]), {}),
    "not kept alive": (answer([JSON_TYPE, LENGTH, *SECURITY]), {"keep_alive": False}),
    "uvicorn's server header too": (
        answer([JSON_TYPE, LENGTH, *SECURITY]),
        {"defaults": [*DATE, (b"server", b"uvicorn")]},
    ),
    "a default header uvicorn reads": (
        answer([JSON_TYPE, LENGTH, *SECURITY]),
        {"defaults": [*DATE, (b"connection", b"close")]},
    ),
    "no default header": (answer([JSON_TYPE, LENGTH, *SECURITY]), {"defaults": []}),
    "a header set twice": (
        answer([JSON_TYPE, LENGTH, (b"cache-control", b"public"), *SECURITY]),
        {},
    ),
}


@pytest.mark.parametrize("name", ANSWERS)
def test_the_same_bytes_as_uvicorn(name: str) -> None:
    messages, options = ANSWERS[name]
    theirs = run(wire(RequestResponseCycle, messages, **options))
    ours = run(wire(KnownHeadersCycle, messages, **options))
    assert ours == theirs
    assert theirs[2]  # the answer was complete


@pytest.mark.parametrize(
    ("header", "error"),
    [((b"bad name", b"x"), "Invalid HTTP header name."), ((b"x", b"a\nb"), "header value")],
)
def test_an_invalid_header_is_refused_as_by_uvicorn(
    header: tuple[bytes, bytes], error: str
) -> None:
    for cycle_class in (RequestResponseCycle, KnownHeadersCycle):
        with pytest.raises(RuntimeError, match=error):
            run(wire(cycle_class, answer([JSON_TYPE, LENGTH, header])))


def test_the_next_seconds_date_is_written() -> None:
    """uvicorn makes a new list of default headers each second: the new date is written."""
    later = [(b"date", b"Sun, 06 Dec 2026 02:30:01 GMT")]
    for defaults in (DATE, later, DATE):
        messages = answer([JSON_TYPE, LENGTH, *SECURITY])
        ours = run(wire(KnownHeadersCycle, messages, defaults=list(defaults)))
        assert ours == run(wire(RequestResponseCycle, messages, defaults=defaults))
        assert b"\r\n%s: %s\r\n" % defaults[0] in ours[0]


def test_a_header_uvicorn_reads_or_refuses_is_never_prepared() -> None:
    for header in ((b"Connection", b"close"), (b"x", b"a\r\nb"), (b"a b", b"x")):
        with pytest.raises(ValueError, match="not to be prepared"):
            header_lines([header])
    assert header_lines(SECURITY)[SECURITY[0]] == b"x-content-type-options: nosniff\r\n"


RECURRING = [
    (b"allow", b"GET, HEAD, OPTIONS"),
    (b"vary", b"Accept, Accept-Language"),
    (b"Content-Language", b"de"),
]


def test_a_recurring_headers_line_is_learned_and_then_written_as_uvicorn_writes_it() -> None:
    lines = HeadLines(SECURITY)
    messages = answer([JSON_TYPE, LENGTH, *RECURRING, (b"x-request-id", b"abc"), *SECURITY])
    theirs = run(wire(RequestResponseCycle, messages))
    for _ in range(2):  # learned on the first answer, written from what was learned after
        assert run(wire(KnownHeadersCycle, messages, lines=lines)) == theirs
    assert all(header in lines.known for header in RECURRING)
    assert (b"x-request-id", b"abc") not in lines.known  # a header whose value varies


def test_learning_stops_at_its_bound() -> None:
    lines = HeadLines(SECURITY)
    for n in range(LEARNED_MAX + 10):
        language = (b"content-language", b"x%d" % n)
        messages = answer([JSON_TYPE, LENGTH, language])
        ours = run(wire(KnownHeadersCycle, messages, lines=lines))
        assert ours == run(wire(RequestResponseCycle, messages))
    assert len(lines.known) == lines.room == len(SECURITY) + 1 + LEARNED_MAX


def test_a_whole_answer_goes_out_in_one_write() -> None:
    """The head waits for the body when that comes whole next: one write (one packet) where
    uvicorn makes two, of the same bytes."""
    messages = answer([JSON_TYPE, LENGTH, *SECURITY])
    theirs, _, _ = run(writes(RequestResponseCycle, messages))
    ours, _, complete = run(writes(KnownHeadersCycle, messages))
    assert len(theirs) == 2
    assert ours == [b"".join(theirs)]
    assert complete


def test_a_body_in_parts_gets_its_head_first() -> None:
    messages, _ = ANSWERS["no length: chunked"]
    theirs, _, _ = run(writes(RequestResponseCycle, messages))
    ours, _, _ = run(writes(KnownHeadersCycle, messages))
    assert ours[0] == theirs[0]
    assert ours[0].endswith(b"transfer-encoding: chunked\r\n\r\n")
    assert ours == theirs


@pytest.mark.parametrize(("body", "error"), [(b'{"id":12345}', "longer"), (b"{", "shorter")])
def test_a_body_not_of_its_length_is_refused_after_its_head(body: bytes, error: str) -> None:
    messages = [answer([JSON_TYPE, LENGTH])[0], {"type": "http.response.body", "body": body}]
    written = []
    for cycle_class in (RequestResponseCycle, KnownHeadersCycle):
        transport = Transport()
        with pytest.raises(RuntimeError, match=f"content {error} than Content-Length"):
            run(writes(cycle_class, messages, transport=transport))
        written.append(transport.written)
    theirs, ours = written
    assert ours == theirs
    assert ours[0].endswith(b"\r\n\r\n")  # the head, as uvicorn wrote it before refusing


def test_a_client_gone_before_the_body_is_written_nothing() -> None:
    messages = answer([JSON_TYPE, LENGTH, *SECURITY])
    ours = run(writes(KnownHeadersCycle, messages, disconnect_after_start=True))
    theirs = run(writes(RequestResponseCycle, messages, disconnect_after_start=True))
    assert ours == ([], False, False)
    assert len(theirs[0]) == 1  # uvicorn had written the head, then nothing more
    assert not theirs[2]


def test_a_transport_paused_before_the_body_gets_the_head_then_the_body() -> None:
    messages = answer([JSON_TYPE, LENGTH, *SECURITY])
    theirs = run(writes(RequestResponseCycle, messages, pause_after_start=True))
    ours = run(writes(KnownHeadersCycle, messages, pause_after_start=True))
    assert ours == theirs
    assert len(ours[0]) == 2
    assert ours[2]
