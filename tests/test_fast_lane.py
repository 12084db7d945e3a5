"""The fast lane as ASGI middleware: what its handlers get, and what a declined request keeps."""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive, Scope, Send

from authgate.http.fast_lane import KEPT_LENGTHS, MAX_BODY, FastAnswer, FastHandler, FastLane
from authgate.http.lane_templates import id_in
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


def call(lane: FastLane, method: str, chunks: list[bytes], path: str = "/p") -> list[Message]:
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

    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "headers": []}
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


def test_a_template_takes_the_paths_below_it_an_exact_path_first() -> None:
    """`/user/{id}/` is asked for any path below `/user/` of its method that no exact path
    takes (its handler judges the rest); the answer is counted under the template."""
    asked: list[tuple[str, str]] = []

    def handler(name: str) -> FastHandler:
        async def answer(scope: Scope, _: bytes) -> FastAnswer | None:
            asked.append((name, scope["path"]))
            return 200, [], b"{}"

        return answer

    answered: list[str] = []
    handlers = {
        ("GET", "/user/{id}/"): handler("record"),
        ("GET", "/user/me/"): handler("me"),
        ("GET", "/user/staff/{id}/"): handler("staff"),  # the longer head is tried first
    }
    lane = FastLane(Recorder(), handlers, answered=lambda route, _: answered.append(route))
    for path in ("/user/7/", "/user/me/", "/user/staff/2/", "/user/x"):
        assert call(lane, "GET", [b""], path)[0]["status"] == 200
    assert asked == [
        ("record", "/user/7/"),
        ("me", "/user/me/"),
        ("staff", "/user/staff/2/"),
        ("record", "/user/x"),
    ]
    assert answered == ["/user/{id}/", "/user/me/", "/user/staff/{id}/", "/user/{id}/"]
    # Another method, or a path outside every template: the app's, no handler asked.
    for method, path in (("POST", "/user/7/"), ("GET", "/users/7/"), ("GET", "/user")):
        assert call(lane, method, [b""], path)[0]["status"] == 204
    assert len(asked) == 4


def test_id_in_takes_one_segment_with_or_without_the_slash() -> None:
    at = len("/user/")
    assert [id_in(p, at) for p in ("/user/7/", "/user/7", "/user/%20x/")] == ["7", "7", "%20x"]
    assert [id_in(p, at) for p in ("/user/", "/user//", "/user/7/x/", "/user/7//")] == [None] * 4


def test_every_answer_states_its_own_length() -> None:
    """The Content-Length headers the lane keeps made, and a length past them."""
    payloads = [b"{}", b"[1]", b"{}", b'"' + b"x" * KEPT_LENGTHS + b'"', b"[1]"]

    async def handler(_: Scope, body: bytes) -> FastAnswer | None:
        return 200, [], payloads.pop(0)

    lane = FastLane(Recorder(), {("GET", "/p"): handler})
    for expected in (2, 3, 2, KEPT_LENGTHS + 2, 3):
        start, body = call(lane, "GET", [b""])
        assert dict(start["headers"])[b"content-length"] == str(expected).encode()
        assert len(body["body"]) == expected


def test_a_body_too_big_in_one_message_is_left_to_the_app() -> None:
    asked: list[bytes] = []

    async def handler(_: Scope, body: bytes) -> FastAnswer | None:
        asked.append(body)
        return 200, [], b"{}"

    app = Recorder()
    big = b"x" * (MAX_BODY + 1)
    sent = call(FastLane(app, {("POST", "/p"): handler}), "POST", [big])
    assert (asked, sent[0]["status"], app.body) == ([], 204, big)
    just = b"x" * MAX_BODY
    sent = call(FastLane(app, {("POST", "/p"): handler}), "POST", [just])
    assert (asked, sent[0]["status"]) == ([just], 200)


def test_a_client_gone_before_its_body_is_left_to_the_app() -> None:
    """The lane's first read is a disconnect: the app reads that very message."""
    asked: list[bytes] = []
    seen: list[Message] = []

    async def handler(_: Scope, body: bytes) -> FastAnswer | None:
        asked.append(body)
        return 200, [], b"{}"

    async def app(_: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(_: Message) -> None:
        raise AssertionError("nothing is answered")

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/p", "headers": []}
    run(FastLane(app, {("POST", "/p"): handler})(scope, receive, send))
    assert (asked, seen) == ([], [{"type": "http.disconnect"}])
