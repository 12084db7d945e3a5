"""The fast lane as ASGI middleware: what its handlers get, and what a declined request keeps."""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive, Scope, Send

from authgate.http.fast_lane import MAX_BODY, FastAnswer, FastLane
from tests.support import run


class Recorder:
    """An ASGI app that reads the whole body and answers 204."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.body = b"".join(chunks)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def call(lane: FastLane, method: str, chunks: list[bytes]) -> list[Message]:
    """Run one request through the lane; the messages it sent."""
    pending: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/p", "headers": []}
    run(lane(scope, receive, send))
    return sent


def test_a_post_handler_gets_the_whole_body_and_may_answer() -> None:
    seen: list[bytes] = []

    async def handler(_: Scope, body: bytes) -> FastAnswer | None:
        seen.append(body)
        return 200, [], b"{}"

    app = Recorder()
    sent = call(FastLane(app, {("POST", "/p"): handler}), "POST", [b'{"a"', b": 1}"])
    assert seen == [b'{"a": 1}']
    assert sent[0]["status"] == 200
    assert app.body is None


def test_a_declined_request_reaches_the_app_with_its_whole_body() -> None:
    async def decline(_: Scope, body: bytes) -> FastAnswer | None:
        return None

    app = Recorder()
    sent = call(FastLane(app, {("POST", "/p"): decline}), "POST", [b"one ", b"two"])
    assert (sent[0]["status"], app.body) == (204, b"one two")


def test_a_big_body_is_left_to_the_app_unread_by_the_handler() -> None:
    asked: list[bytes] = []

    async def handler(_: Scope, body: bytes) -> FastAnswer | None:
        asked.append(body)
        return 200, [], b"{}"

    app = Recorder()
    chunks = [b"x" * MAX_BODY, b"y" * 10, b"z"]
    sent = call(FastLane(app, {("POST", "/p"): handler}), "POST", chunks)
    assert (asked, sent[0]["status"], app.body) == ([], 204, b"".join(chunks))


def test_a_get_handler_gets_no_body() -> None:
    seen: list[bytes] = []

    async def handler(_: Scope, body: bytes) -> FastAnswer | None:
        seen.append(body)
        return None

    app = Recorder()
    call(FastLane(app, {("GET", "/p"): handler}), "GET", [b""])
    assert seen == [b""]


def test_a_failing_handler_leaves_the_request_to_the_app() -> None:
    async def broken(_: Scope, body: bytes) -> FastAnswer | None:
        raise RuntimeError("database is down")

    app = Recorder()
    sent = call(FastLane(app, {("POST", "/p"): broken}), "POST", [b'{"x": 1}'])
    assert (sent[0]["status"], app.body) == (204, b'{"x": 1}')
