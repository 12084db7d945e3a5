"""The head of each answer, written by uvicorn's request cycle with the constant header lines
prepared once.

uvicorn checks every header of every answer against two regular expressions, byte by byte,
before it writes `name: value`. The security headers (http/security_headers.py) and JSON's
content type are on nearly every answer and never change: some 200 bytes checked again per
answer, about 29,000 instructions of the lane's head (74,600 -> 45,400 in a uvloop count of
uvicorn's cycle), over a tenth of a whole fast-lane answer's. KnownHeadersCycle checks them
once, when the server starts, and uvicorn's Date once a second, and writes their lines as
prepared; every other header goes through uvicorn's own check and handling, so the bytes on
the wire are the same.

uvicorn also writes an answer's head and its body apart: two sends and, with Nagle off, two
packets per answer, and the head's send was the largest single cost of a lane answer (a sixth
of its CPU in a py-spy profile). KnownHeadersCycle keeps the head it made until the next
message: a whole body (the lane's and every Starlette Response's) goes out with it in one
write; anything else (a body in parts, a HEAD, a length that does not match, a paused
transport) gets the head written first and uvicorn's code after, as before. A client gone
in between gets neither. An app that starts an answer and never sends its body got a head
and a closed connection; now it gets the closed connection alone (uvicorn closes it either way).

`authgate serve`'s protocol (http/slow_clients.py) makes its cycles of this class.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

from authgate.http.fast_lane import JSON_TYPE

Header = tuple[bytes, bytes]
# The headers whose value uvicorn reads (the body's framing, the connection's end): always
# handed to its own code, never prepared.
READ_BY_UVICORN = frozenset({b"content-length", b"transfer-encoding", b"connection"})
# Headers whose few values recur answer after answer (an endpoint's methods, what it varies
# by, the language chosen, a type, an authentication challenge): a value's line is learned
# the first time uvicorn's check passes it, up to LEARNED_MAX lines, and written as prepared
# from then on. Other headers (a request id, a cookie, a location) vary: never learned.
LEARNABLE = frozenset(
    {b"allow", b"vary", b"content-language", b"content-type", b"www-authenticate"}
)
LEARNED_MAX = 512


def header_lines(headers: Iterable[Header]) -> dict[Header, bytes]:
    """The line uvicorn writes for each of `headers` (and for JSON's content type), checked as
    uvicorn checks them: a header it would refuse, or one it reads, is an error here."""
    lines = {}
    for name, value in (JSON_TYPE, *headers):
        line = _line(name, value)
        if line is None:
            raise ValueError(f"not to be prepared (invalid, or read by uvicorn): {name!r}")
        lines[(name, value)] = line
    return lines


def _line(name: bytes, value: bytes) -> bytes | None:
    """The line uvicorn writes for the header, or None if uvicorn refuses it or reads it."""
    if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
        return None
    if name.lower() in READ_BY_UVICORN:
        return None
    return b"%s: %s\r\n" % (name.lower(), value)


class HeadLines:
    """The prepared lines of a server's answers: its constant headers', and those of uvicorn's
    default headers (its Date, in a list uvicorn makes anew each second)."""

    def __init__(self, headers: Iterable[Header]) -> None:
        self.known = header_lines(headers)
        self.room = len(self.known) + LEARNED_MAX  # the known lines' bound, learned included
        self._defaults: list[Header] | None = None
        self._default_lines: bytes | None = None

    def of_defaults(self, defaults: list[Header]) -> bytes | None:
        """The lines of `defaults`, prepared once per list; None if one is not to be prepared
        (uvicorn's code then writes them all)."""
        if defaults is not self._defaults:
            lines = [_line(name, value) for name, value in defaults]
            self._defaults = defaults  # held, so its identity is never another list's
            self._default_lines = None if None in lines else b"".join(filter(None, lines))
        return self._default_lines


@functools.cache
def head_lines_of(headers: tuple[Header, ...]) -> HeadLines:
    """The HeadLines of a server's constant headers, one for all its connections: a line
    learned on one connection serves every other."""
    return HeadLines(headers)


class KnownHeadersCycle(RequestResponseCycle):
    """uvicorn's httptools request cycle, writing the lines of `head_lines` as prepared (set by
    the protocol on each cycle it makes)."""

    head_lines: HeadLines
    _head: bytes | None = None
    """The head made of the answer's start, not written yet: it goes out with the body."""

    async def send(self, message: ASGISendEvent) -> None:  # noqa: C901 uvicorn's, as it is
        """uvicorn's send; the answer's start made here when nothing but its head is to do
        (no access log, the transport taking writes), and written with the answer's body when
        that comes whole in the next message (one write, one packet, where uvicorn makes two);
        uvicorn's code for the rest."""
        head = self._head
        if head is not None:
            self._head = None
            if self._written_whole(head, message):
                return
        if (
            message["type"] != "http.response.start"
            or self.response_started
            or self.access_log
            or self.disconnected
            or self.flow.write_paused
        ):
            await super().send(message)
            return
        # uvicorn's own writing of the head (httptools_impl.RequestResponseCycle.send), but
        # for a known header's line.
        self.response_started = True
        self.waiting_for_100_continue = False
        status_code = message["status"]
        known = self.head_lines.known
        defaults = self.head_lines.of_defaults(self.default_headers)
        if defaults is None:
            headers = self.default_headers + list(message.get("headers", []))
            content = [STATUS_LINE[status_code]]
        else:
            headers = message.get("headers", [])  # type: ignore[assignment]
            content = [STATUS_LINE[status_code], defaults]
        has_connection_close = False
        for given, value in headers:
            line = known.get((given, value))
            if line is not None:
                content.append(line)
                continue
            if HEADER_RE.search(given):
                raise RuntimeError("Invalid HTTP header name.")
            if HEADER_VALUE_RE.search(value):
                raise RuntimeError("Invalid HTTP header value.")
            name = given.lower()
            if name in LEARNABLE and len(known) < self.head_lines.room:
                known[(given, value)] = b"%s: %s\r\n" % (name, value)
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection":
                connection = [token.lower().strip() for token in value.split(b",")]
                if b"close" in connection:
                    self.keep_alive = False
                    has_connection_close = True
            content.extend([name, b": ", value, b"\r\n"])
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if (
            self.chunked_encoding is None
            and self.scope["method"] != "HEAD"
            and status_code not in (204, 304)
        ):
            # Neither content-length nor transfer-encoding specified
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        self._head = b"".join(content)

    def _written_whole(self, head: bytes, message: ASGISendEvent) -> bool:
        """Write the held head: with `message`'s body in one write when that is all the rest
        of the answer, then uvicorn's end of an answer (True: done); else alone, for uvicorn's
        code to go on with `message` (nothing at all to a client gone)."""
        if self.disconnected:
            return False
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            if (
                not message.get("more_body", False)
                and self.chunked_encoding is False
                and len(body) == self.expected_content_length
                and self.scope["method"] != "HEAD"
                and not self.flow.write_paused
            ):
                self.expected_content_length = 0
                self.transport.write(head + body)
                self.response_complete = True
                self.message_event.set()
                if not self.keep_alive:
                    self.transport.close()
                self.on_response()
                return True
        self.transport.write(head)
        return False
