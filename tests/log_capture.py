"""Every log record of a test session, and every secret the session's HTTP traffic carried, so
that the end of the session can check that no secret reached a log (issue 5, ASVS 16.2.5).

Records are taken at `Logger.callHandlers`, which every record passing its logger's level goes
through, propagating or not: uvicorn's own loggers (which do not propagate, and whose handlers
uvicorn replaces at every server start) are covered as well as the root's. Secrets are taken
from httpx's `send`: the passwords of request bodies, the credentials of Authorization headers,
and the tokens of response bodies and cookies.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx

from authgate.logs import extra_fields

# Too short or too plain to be told from ordinary words in a log ("x", "wrong", "password").
_MIN_SECRET_LENGTH = 8
_PASSWORD_KEY = re.compile(r"password", re.IGNORECASE)
_TOKEN_KEYS = frozenset(
    {
        "auth_token",
        "token",
        "access",
        "refresh",
        "access_token",
        "refresh_token",
        "csrf_token",
        # The admin's browser session and its login form's double-submit cookie (as cookies,
        # also with their __Host- or __Secure- prefix, http/cookie_names.py).
        "authgate_session",
        "authgate_admin_login",
    }
)
# Not the service's logs: the test SMTP server (aiosmtpd) stands in for an external mail server,
# and the tests' HTTP client (httpx, httpcore) logs what it sends and receives at DEBUG, as any
# client would (URLs with their query strings, Set-Cookie headers).
FOREIGN_LOGGERS = ("mail.log", "httpx", "httpcore")


def _worth_checking(value: object) -> bool:
    return isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH and not value.isalpha()


class SessionLog:
    """The records and secrets of a session."""

    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []
        self.secrets: set[str] = set()

    # collecting

    def add_secret(self, value: object) -> None:
        """Remember one secret, if it is distinctive enough to search for."""
        if _worth_checking(value):
            self.secrets.add(str(value))

    def note_request(self, request: httpx.Request) -> None:
        """The password and token fields of a JSON or form body (tokens from reset links
        too), and the Authorization credential."""
        header = request.headers.get("authorization")
        if header:
            self.add_secret(header.split(" ", 1)[-1].strip())
        try:
            content = request.content
        except httpx.RequestNotRead:
            return
        for key, value in _fields(content):
            if _PASSWORD_KEY.search(key) or key in _TOKEN_KEYS:
                self.add_secret(value)

    def note_response(self, response: httpx.Response) -> None:
        """The tokens of a JSON body and of Set-Cookie headers."""
        for cookie in response.headers.get_list("set-cookie"):
            name, _, rest = cookie.partition("=")
            if name.strip().removeprefix("__Host-").removeprefix("__Secure-") in _TOKEN_KEYS:
                self.add_secret(rest.split(";", 1)[0])
        if "json" not in response.headers.get("content-type", ""):
            return
        try:
            body = response.json()
            pairs = list(_walk(body))
        except (ValueError, RecursionError, httpx.ResponseNotRead):
            return
        for key, value in pairs:
            if key in _TOKEN_KEYS:
                self.add_secret(value)

    # checking

    def text_of(self, records: Iterable[logging.LogRecord]) -> list[tuple[str, str]]:
        """(logger name, full text with the event's fields and any traceback) of each record
        not foreign: the fields are what AUTHGATE_LOG_FORMAT=json writes beside the message."""
        texts = []
        for record in records:
            if record.name.startswith(FOREIGN_LOGGERS):
                continue
            try:
                text = record.getMessage()
            except Exception:  # noqa: BLE001 a malformed record: check its parts instead
                text = f"{record.msg!r} {record.args!r}"
            for key, value in extra_fields(record).items():
                text += f" {key}={value}"
            if record.exc_info and record.exc_info[1] is not None:
                text += "\n" + "".join(traceback.format_exception(record.exc_info[1]))
            texts.append((record.name, text))
        return texts

    def leaks(
        self,
        secrets: Iterable[str] | None = None,
        records: Iterable[logging.LogRecord] | None = None,
    ) -> list[str]:
        """Every (logger: secret) pair where a secret appears in a record's text."""
        texts = self.text_of(self.records if records is None else records)
        wanted = sorted(self.secrets if secrets is None else set(secrets))
        found = []
        for name, text in texts:
            found += [f"{name}: {secret[:12]}…" for secret in wanted if secret in text]
        return found

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Collect records and secrets while inside."""
        original_call: Callable[[logging.Logger, logging.LogRecord], None]
        original_call = logging.Logger.callHandlers
        original_send = httpx.Client.send
        original_async_send = httpx.AsyncClient.send
        log = self

        def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
            log.records.append(record)
            original_call(logger, record)

        def send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            log.note_request(request)
            response = original_send(client, request, **kwargs)
            log.note_response(response)
            return response

        async def async_send(
            client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
        ) -> httpx.Response:
            log.note_request(request)
            response = await original_async_send(client, request, **kwargs)
            log.note_response(response)
            return response

        logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign, assignment]
        httpx.Client.send = send  # type: ignore[method-assign, assignment]
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            logging.Logger.callHandlers = original_call  # type: ignore[method-assign]
            httpx.Client.send = original_send  # type: ignore[method-assign]
            httpx.AsyncClient.send = original_async_send  # type: ignore[method-assign]


def _fields(content: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs of a JSON object or urlencoded body; none for anything else."""
    if not content:
        return []
    try:
        return [(k, v) for k, v in _walk(json.loads(content)) if isinstance(v, str)]
    except (ValueError, RecursionError):  # not JSON, or JSON no test reads secrets from
        pass
    try:
        return parse_qsl(content.decode(), keep_blank_values=True)
    except ValueError:
        return []


def _walk(data: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) of nested JSON objects."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield str(key), value
            yield from _walk(value)
    elif isinstance(data, list):
        for item in data:
            yield from _walk(item)
