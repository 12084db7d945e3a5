"""The walk through the token API (the README's, and the docs' Getting started) answers as
written: each curl command is sent to a live server, and its answer compared with the comment
line that follows it (none: an empty body). The token the login answers replaces the one the
text shows in the commands after it."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import Api

ROOT = Path(__file__).resolve().parent.parent
WALKS = ["README.md", "docs/getting-started.md"]
SHOWN_HOST = "localhost:8000"


@dataclass
class Step:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    answer: object = None  # the JSON shown after the command; None: nothing printed


def walk(page: str) -> list[Step]:
    """The steps of the page's first shell block that calls curl."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / page).read_text(), re.S)
    block = next(b for b in blocks if "curl " in b)
    steps: list[Step] = []
    for line in block.replace("\\\n", " ").splitlines():
        if line.startswith("curl "):
            steps.append(parse_curl(line))
        elif line.startswith("# {") and steps:
            steps[-1].answer = json.loads(line[2:])
    return steps


def parse_curl(command: str) -> Step:
    args = shlex.split(command)[1:]
    step = Step(method="GET", path="")
    while args:
        arg = args.pop(0)
        if arg == "-s":
            continue
        if arg == "-X":
            step.method = args.pop(0)
        elif arg == "-H":
            name, _, value = args.pop(0).partition(": ")
            step.headers[name] = value
        elif arg == "-d":
            step.body = args.pop(0)
            if step.method == "GET":
                step.method = "POST"
        else:
            assert arg.startswith(SHOWN_HOST), f"unexpected curl argument {arg!r}"
            step.path = arg.removeprefix(SHOWN_HOST)
    if step.body is not None and "Content-Type" not in step.headers:
        step.headers["Content-Type"] = "application/x-www-form-urlencoded"  # as curl -d sends
    return step


@pytest.mark.parametrize("page", WALKS)
def test_walk_through_answers_as_written(page: str, api: Api) -> None:
    steps = walk(page)
    assert [s.path for s in steps] == [
        "/auth/users/",
        "/auth/token/login/",
        "/auth/users/me/",
        "/auth/token/logout/",
    ]
    shown_token: str | None = None
    real_token = ""
    for step in steps:
        headers = dict(step.headers)
        if shown_token is not None:
            headers = {k: v.replace(shown_token, real_token) for k, v in headers.items()}
        response = api.http.request(step.method, step.path, headers=headers, content=step.body)
        assert response.is_success, (step, response.text)
        if step.answer is None:
            assert response.content == b"", step
            continue
        answer = response.json()
        if isinstance(step.answer, dict) and "auth_token" in step.answer:
            shown_token, real_token = step.answer["auth_token"], answer["auth_token"]
            assert re.fullmatch(r"[0-9a-f]{40}", real_token)
            assert shown_token != real_token
            continue
        assert answer == step.answer, step
    # The last step logged the token out: it no longer answers.
    me = api.http.get("/auth/users/me/", headers={"Authorization": f"Token {real_token}"})
    assert me.status_code == 401
