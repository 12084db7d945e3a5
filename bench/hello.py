"""A bare Starlette "hello" app, served the way `authgate serve` serves authgate.

The ceiling for context: uvicorn with uvloop and httptools, one worker, no access log, no
server header, no proxy-headers middleware. `python bench/hello.py --port P` serves it on 127.0.0.1.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def hello(_: Request) -> Response:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello, methods=["GET"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The options of authgate.cli.serve; loop/http named explicitly instead of "auto", which
    # picks these same two when they are installed (they are: uvicorn[standard]).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # authgate reads forwarded headers itself (http/proxies.py)
    )


if __name__ == "__main__":
    main()
