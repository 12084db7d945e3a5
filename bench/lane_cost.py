"""What the metrics cost the fast lane, measured in process, without HTTP or wrk.

    .venv/bin/python bench/lane_cost.py --rounds 5

`bench/ab.py` measures whole answers through uvicorn, whose CPU time per answer drifts by a
third between runs on a shared machine: more than the few per cent the metrics may cost. This
calls the app's ASGI entry directly for the fast lane's requests (`GET /auth/users/me/` with an
opaque token and with a SimpleJWT access token, `POST /api/v1/check_token/`, the cookie JWT
API's `GET /u/api/secure_test/` with its access token as Bearer, the directory's
`GET /user/<id>/` with an opaque token for the user's own record; `--case` picks some),
20,000 times per run, in a fresh process per run, metrics off and on (on: prometheus-client's
multiprocess mode, as under `authgate serve`), alternating, and prints the process CPU time
per call and the medians. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# LANE_COST_CALLS: fewer calls, for a run under valgrind (callgrind counts two runs of
# different lengths; their difference over the extra calls, 1.1 per call with the warm-up,
# is one answer's instructions).
CALLS = int(os.environ.get("LANE_COST_CALLS", "20000"))
PASSWORD = "Correct-Horse-9"
CASES = {
    "me": ("GET", "/auth/users/me/", b""),
    "check_token": ("POST", "/api/v1/check_token/", b'{"username":"bench"}'),
    "secure_test": ("GET", "/u/api/secure_test/", b""),
    "me_jwt": ("GET", "/auth/users/me/", b""),
    "user_get": ("GET", "/user/{id}/", b""),
}
# How each case's credentials are got (a login: path, its body's fields, the token's key) and
# sent (the Authorization keyword).
LOGINS = {
    "me": ("/auth/token/login/", ("username", "password"), "auth_token", "Token"),
    "check_token": ("/auth/token/login/", ("username", "password"), "auth_token", "Token"),
    "secure_test": ("/u/api/login/", ("email", "password"), "access_token", "Bearer"),
    "me_jwt": ("/auth/jwt/create/", ("username", "password"), "access", "Bearer"),
    "user_get": ("/auth/token/login/", ("username", "password"), "auth_token", "Token"),
}
# me_jwt: the Djoser dialect takes SimpleJWT's access tokens too (settings.py).
CASE_SETTINGS: dict[str, dict[str, object]] = {
    "me_jwt": {"authentication": {"djoser": ["token", "jwt"]}}
}


async def measure(case: str, metrics: bool, database: Path) -> float:
    """Microseconds of CPU per lane answer in this process."""
    import httpx

    from authgate.app import create_app
    from authgate.settings import Settings
    from authgate.store.migrate import upgrade

    url = f"sqlite:///{database}"
    upgrade(url)
    values: dict[str, object] = {"database_url": url, "secret_key": "b" * 48}
    values |= CASE_SETTINGS.get(case, {})
    if metrics:
        values["metrics_token"] = "bench-metrics-token-0123456789abcdef"
    app = create_app(Settings(_env_file=None, **values))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            user = {"username": "bench", "email": "bench@example.com", "password": PASSWORD}
            await client.post("/auth/users/", json=user)
            login, fields, key, keyword = LOGINS[case]
            given = {field: user[field] for field in fields}
            token = (await client.post(login, json=given)).json()[key]
            me = await client.get("/auth/users/me/", headers={"Authorization": f"Token {token}"})
        method, path, body = CASES[case]
        path = path.format(id=me.json()["id"])  # user_get: the user's own record
        headers = [
            (b"host", b"bench"),
            (b"authorization", f"{keyword} {token}".encode()),
            (b"content-type", b"application/json"),
        ]
        scope = scope_of(method, path, headers)
        statuses: list[int] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        for _ in range(CALLS // 10):  # warm up: caches, the lane's first answers
            await app(dict(scope), receive, send)  # type: ignore[arg-type]
        started = time.process_time()
        for _ in range(CALLS):
            await app(dict(scope), receive, send)  # type: ignore[arg-type]
        spent = time.process_time() - started
    assert set(statuses) == {200}, set(statuses)  # noqa: S101 every answer the lane's success
    return spent / CALLS * 1e6


def scope_of(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    """The ASGI scope of a request from a local client, as uvicorn makes it."""
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "scheme": "http",
        "http_version": "1.1",
    }


def run_side(case: str, metrics: bool) -> float:
    """One measured run in a fresh process (prometheus-client reads its mode at import)."""
    with tempfile.TemporaryDirectory(prefix="authgate-lane-cost-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if metrics:
            directory = Path(scratch) / "metrics"
            directory.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        args = [sys.executable, __file__, "--child", case, "on" if metrics else "off", scratch]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--case", choices=tuple(CASES), action="append", help="default: all")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, side, scratch = args.child
        database = Path(scratch) / "bench.sqlite3"
        print(asyncio.run(measure(case, side == "on", database)))
        return
    for case in args.case or CASES:
        figures: dict[str, list[float]] = {"off": [], "on": []}
        for round_ in range(1, args.rounds + 1):
            for side in figures:
                figure = run_side(case, side == "on")
                figures[side].append(figure)
                print(f"round {round_} metrics {side:3} {case}: {figure:5.2f} µs CPU per call")
        off, on = (statistics.median(figures[side]) for side in ("off", "on"))
        print(f"median {case}: off {off:.2f} µs, on {on:.2f} µs, on - off {on - off:+.2f} µs")


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
