"""How every authgate process logs: one handler on stderr, a UTC timestamp on every record, and
the id of the request the record was written for.

`authgate serve` hands `logging_config()` to uvicorn, which applies it in its own process and
in each worker it spawns (a worker starts with no logging configured at all), so uvicorn's
loggers and authgate's go through the same handler and format. Two formats:
AUTHGATE_LOG_FORMAT=text (one line a record, for people) and json (one JSON object a line,
for log collectors).

The request id (http/request_ids.py) lives in a context variable: every record written while a
request is handled, in any module, carries it without being passed along.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
# The id of the request being handled; None outside requests (startup, background tasks).
request_id: ContextVar[str | None] = ContextVar("authgate_request_id", default=None)
# A record's own attributes: whatever else a record has came from `extra=` (the event's fields).
_RECORD_ATTRIBUTES = frozenset(
    [
        *logging.LogRecord("", 0, "", 0, "", None, None).__dict__,
        "message",
        "asctime",
        "request_id",
        "taskName",
        # uvicorn adds a copy of some messages with terminal colours.
        "color_message",
    ]
)


def timestamp(created: float) -> str:
    """ISO 8601 in UTC to the millisecond: `2026-12-04T21:00:48.123Z`."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields an event was logged with (`extra=`), beyond a record's own attributes."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (on the handler, so that records of
    every logger, propagated to it, get one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record."""
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-04T21:00:48.123Z INFO authgate.access [3f2a…] message` (`-` outside requests);
    a traceback follows on the next lines."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (and its traceback, if any)."""
        line = (
            f"{timestamp(record.created)} {record.levelname} {record.name}"
            f" [{getattr(record, 'request_id', None) or '-'}] {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a record: time, level, logger, message, request_id, the fields passed
    with `extra=`, and any traceback as `exception` (inside the one line)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        data: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in extra_fields(record).items():
            data.setdefault(key, value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, default=str, ensure_ascii=False)


FORMATTERS: dict[LogFormat, type[logging.Formatter]] = {
    "text": TextFormatter,
    "json": JsonFormatter,
}


def stream_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """The handler of every authgate process: `log_format` lines with the request id, to
    `stream` (stderr when None)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(FORMATTERS[log_format]())
    handler.addFilter(RequestIdFilter())
    return handler


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (uvicorn's `log_config`): everything to stderr
    through stream_handler(), uvicorn's loggers included (they keep no handler of their own)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"()": f"{__name__}.stream_handler", "log_format": log_format}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
            },
            # Turned on by AUTHGATE_ACCESS_LOG, its INFO records are written at any level (the
            # probes' DEBUG ones at debug only).
            "authgate.access": {"level": "DEBUG" if level.lower() == "debug" else "INFO"},
        },
    }
