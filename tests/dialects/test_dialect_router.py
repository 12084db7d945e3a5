"""A dialect's router keeps what the dialect's own Starlette app gave: Starlette's exceptions,
a view's as well as the 404 of a path no route takes, answered by the dialect's handler; no
slash redirect; the dialect's name set for the metrics while it answers, and only then."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from authgate.dialects.base import DialectRouter
from authgate.metrics import current_dialect


async def _handler(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return JSONResponse({"dialect_says": status}, status_code=status)


async def _refuses(request: Request) -> Response:
    raise HTTPException(409)


async def _names(request: Request) -> Response:
    return PlainTextResponse(current_dialect.get())


def _app(name: str | None) -> Starlette:
    router = DialectRouter([Route("/refuses/", _refuses), Route("/name/", _names)], _handler, name)

    async def outside(request: Request) -> Response:
        return PlainTextResponse(current_dialect.get())

    return Starlette(routes=[Mount("/d", app=router), Route("/outside/", outside)])


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/d/refuses/", 409, b'{"dialect_says":409}'),  # a view's HTTPException
        ("/d/nope/", 404, b'{"dialect_says":404}'),  # no route takes it
        ("/d/name", 404, b'{"dialect_says":404}'),  # the other spelling: no redirect
        ("/nope/", 404, b"Not Found"),  # outside the mount: the app's own 404
    ],
)
def test_starlettes_exceptions_get_the_dialects_answer(path: str, status: int, body: bytes) -> None:
    response = asyncio.run(_get(_app(None), path))
    assert (response.status_code, response.content) == (status, body)


def test_the_dialects_name_is_set_while_it_answers() -> None:
    app = _app("djoser")
    assert asyncio.run(_get(app, "/d/name/")).text == "djoser"
    assert asyncio.run(_get(app, "/outside/")).text == "none"  # current_dialect's default
    assert asyncio.run(_get(_app(None), "/d/name/")).text == "none"  # metrics off: not set


async def _get(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


def _says(text: str, path: str | None = None, methods: list[str] | None = None) -> Route:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(text)

    return Route(path or f"/{text}/", endpoint, methods=methods)


# Routes of plain paths (the router's shortcut) among routes that take them first.
SHADOWING_ROUTES = [
    _says("first"),
    _says("get-only", methods=["GET"]),
    _says("param", "/{name:str}/", methods=["GET"]),
    _says("shadowed", methods=["GET", "POST"]),
    Mount("/mounted", app=Starlette(routes=[_says("inner")])),
    _says("outer", "/mounted/inner/"),
    _says("deep", "/a/b/"),
]


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/d/first/", 200, b"first"),  # no route before it takes the path
        ("GET", "/d/a/b/", 200, b"deep"),
        ("GET", "/d/shadowed/", 200, b"param"),  # the parameter's route comes first
        ("POST", "/d/shadowed/", 200, b"shadowed"),  # ... but not for this method
        ("GET", "/d/mounted/inner/", 200, b"inner"),  # the mount comes first
        ("POST", "/d/get-only/", 405, b"Method Not Allowed"),  # the route's own methods
    ],
)
def test_a_plain_path_finds_the_route_of_starlettes_scan(
    method: str, path: str, status: int, body: bytes
) -> None:
    # DialectRouter.app goes straight to the route of a plain path: it must be the route
    # Starlette's scan of the routes in order finds.
    router = DialectRouter(SHADOWING_ROUTES, _handler)
    response = asyncio.run(_request(Starlette(routes=[Mount("/d", app=router)]), method, path))
    assert (response.status_code, response.content) == (status, body)


async def _request(app: Starlette, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path)
