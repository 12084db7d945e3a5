"""How each dialect answers the core's ThrottledError (429 with `Retry-After`), checked on the
dialects' error renderers directly: the throttles that raise it are wired in the views."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import Response

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import ThrottledError
from authgate.dialects.cookie_jwt.views import CookieJwtViews
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.envelope.views import EnvelopeViews
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    """A core that is never started: the renderers only read its settings."""
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    settings = Settings(database_url=url, secret_key="k" * 64, _env_file=None)
    built = build_core(settings, open_store(url), LogMailer())
    yield built
    asyncio.run(built.close())


def _request(language: str | None = None) -> Request:
    headers = [] if language is None else [(b"accept-language", language.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def _answer(response: Response) -> tuple[int, str | None, object]:
    return response.status_code, response.headers.get("retry-after"), orjson.loads(response.body)


@pytest.mark.parametrize(
    ("wait", "language", "detail"),
    [
        (1, None, "Request was throttled. Expected available in 1 second."),
        (2, "en", "Request was throttled. Expected available in 2 seconds."),
        (60, "en-US", "Request was throttled. Expected available in 60 seconds."),
        # DRF's real Russian answer: its second sentence never gets translated.
        (1, "ru", "Запрос был проигнорирован. Expected available in 1 second."),
        (21, "ru-RU", "Запрос был проигнорирован. Expected available in 21 seconds."),
    ],
)
def test_drf_dialects_answer_as_drf_throttled(
    core: Core, wait: int, language: str | None, detail: str
) -> None:
    # Djoser's and SimpleJWT's views both render failures through DrfViews.
    response = DrfViews(core, "djoser").error_response(_request(language), ThrottledError(wait))
    assert _answer(response) == (429, str(wait), {"detail": detail})
    assert response.headers["content-language"] == ("ru" if language and "ru" in language else "en")
    assert "www-authenticate" not in response.headers


def test_retry_after_is_at_least_one_second(core: Core) -> None:
    response = DrfViews(core, "djoser").error_response(_request(), ThrottledError(0))
    assert _answer(response) == (
        429,
        "1",
        {"detail": "Request was throttled. Expected available in 1 second."},
    )


@pytest.mark.parametrize(
    ("wait", "language", "message"),
    [
        (1, "ru", "Слишком много попыток, повторите через 1 секунду"),
        (3, "ru", "Слишком много попыток, повторите через 3 секунды"),
        (11, "ru", "Слишком много попыток, повторите через 11 секунд"),
        (25, "ru", "Слишком много попыток, повторите через 25 секунд"),
        (1, "en", "Too many attempts, try again in 1 second"),
        (30, "en", "Too many attempts, try again in 30 seconds"),
    ],
)
def test_envelope_answers_429_in_its_envelope(
    core: Core, wait: int, language: str, message: str
) -> None:
    response = EnvelopeViews(core).error_response(_request(language), ThrottledError(wait))
    assert _answer(response) == (
        429,
        str(wait),
        {"result": {"status": 429, "message": message}, "data": {}},
    )
    assert response.headers["content-language"] == language


def test_envelope_default_language_is_the_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    settings = Settings(
        database_url=url, secret_key="k" * 64, default_language="ru", _env_file=None
    )
    core = build_core(settings, open_store(url), LogMailer())
    try:
        response = EnvelopeViews(core).error_response(_request(), ThrottledError(5))
    finally:
        asyncio.run(core.close())
    assert _answer(response)[2] == {
        "result": {"status": 429, "message": "Слишком много попыток, повторите через 5 секунд"},
        "data": {},
    }


@pytest.mark.parametrize(
    ("wait", "language", "detail"),
    [
        (1, "en", "Too many requests, try again in 1 second"),
        (42, None, "Too many requests, try again in 42 seconds"),
        (2, "ru", "Слишком много запросов, повторите через 2 секунды"),
    ],
)
def test_cookie_jwt_answers_429_with_detail(
    core: Core, wait: int, language: str | None, detail: str
) -> None:
    response = CookieJwtViews(core).error_response(_request(language), ThrottledError(wait))
    assert _answer(response) == (429, str(wait), {"detail": detail})
    assert "www-authenticate" not in response.headers
