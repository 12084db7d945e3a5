"""Keep secrets a client put in a URL out of uvicorn's access log.

No authgate endpoint reads its query string, but a client may still send a token there
(`?token=...`), and uvicorn's access log writes the path with its query string. `authgate serve`
keeps the access log off; for deployments that turn it on, this filter logs the path alone.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
# uvicorn's access record: (client, method, path with query, HTTP version, status).
_PATH_ARG = 2
_ACCESS_ARGS = 5


class DropQueryString(logging.Filter):
    """Replaces the query string of uvicorn's access records with `?…`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS:
            path = args[_PATH_ARG]
            if isinstance(path, str) and "?" in path:
                redacted = path.split("?", 1)[0] + "?…"
                record.args = (*args[:_PATH_ARG], redacted, *args[_PATH_ARG + 1 :])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger, once per process (logging.config keeps a
    logger's filters when uvicorn reconfigures its handlers)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, DropQueryString) for f in logger.filters):
        logger.addFilter(DropQueryString())
