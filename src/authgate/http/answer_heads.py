"""The head of each answer, written by uvicorn's request cycle with the constant header lines
prepared once.

uvicorn checks every header of every answer against two regular expressions, byte by byte,
before it writes `name: value`. The security headers (http/security_headers.py) and JSON's
content type are on nearly every answer and never change: some 200 bytes checked again per
answer, about 30,000 instructions, a seventh of a whole fast-lane answer's (bench/instructions.py,
callgrind). KnownHeadersCycle checks them once, when the server starts, and writes their lines
as prepared; every other header goes through uvicorn's own check and handling, so the bytes on
the wire are the same. `authgate serve`'s protocol (http/slow_clients.py) makes its cycles
of this class.
"""

from __future__ import annotations

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


def header_lines(headers: Iterable[Header]) -> dict[Header, bytes]:
    """The line uvicorn writes for each of `headers` (and for JSON's content type), checked as
    uvicorn checks them: a header it would refuse, or one it reads, is an error here."""
    lines = {}
    for name, value in (JSON_TYPE, *headers):
        if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
            raise ValueError(f"an invalid header: {name!r}: {value!r}")
        if name.lower() in READ_BY_UVICORN:
            raise ValueError(f"uvicorn reads {name!r}: it cannot be prepared")
        lines[(name, value)] = b"%s: %s\r\n" % (name.lower(), value)
    return lines


class KnownHeadersCycle(RequestResponseCycle):
    """uvicorn's httptools request cycle, writing the header lines of `known_lines` as they are
    (set by the protocol on each cycle it makes)."""

    known_lines: dict[Header, bytes]

    async def send(self, message: ASGISendEvent) -> None:
        """uvicorn's send; the answer's start written here when nothing but its head is to do
        (no access log, the transport taking writes), with uvicorn's code for the rest."""
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
        known = self.known_lines
        content = [STATUS_LINE[status_code]]
        has_connection_close = False
        for name, value in self.default_headers + list(message.get("headers", [])):
            line = known.get((name, value))
            if line is not None:
                content.append(line)
                continue
            if HEADER_RE.search(name):
                raise RuntimeError("Invalid HTTP header name.")
            if HEADER_VALUE_RE.search(value):
                raise RuntimeError("Invalid HTTP header value.")
            name = name.lower()
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
        self.transport.write(b"".join(content))
