"""What a serving worker loads: only what every request may need. The rest loads on first use
(bench/memory.py measures the memory this keeps out of a worker's peak)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Loaded by the first request that needs it, never while the service starts.
# libicu (ICU's shared libraries, mapped) and icu (PyICU, only where ICU's C API is not found,
# core/uts39.py): a new or changed username; asyncpg: the PostgreSQL driver; jwt (PyJWT) and
# cryptography: the first JWT signed or checked, or asymmetric JWT keys; jinja2: the first
# admin page; prometheus_client: only a worker with the metrics on (AUTHGATE_METRICS_TOKEN).
ON_FIRST_USE = ("libicu", "icu", "asyncpg", "jwt", "cryptography", "jinja2", "prometheus_client")


def _loaded_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    """What of ON_FIRST_USE a fresh interpreter has loaded after `code`: top-level packages,
    and "libicu" when ICU's libraries are mapped into it."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import sys
        from pathlib import Path
        loaded = {{m.split('.')[0] for m in sys.modules}}
        if "/libicu" in Path("/proc/self/maps").read_text():
            loaded.add("libicu")
        print(sorted(loaded & {set(ON_FIRST_USE)!r}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    return list(eval(done.stdout.strip().splitlines()[-1]))  # noqa: S307 our own print


_STARTED_APP = """
    import asyncio
    import authgate.cli, authgate.app
    from authgate.settings import load_settings
    app = authgate.app.create_app(load_settings())
    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass
    asyncio.run(start())
"""


def _serving_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of `authgate serve` at the default settings but `settings`, on a
    migrated SQLite database."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")},
        "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AUTHGATE_SECRET_KEY": "s" * 40,
        **settings,
    }
    migrate = [sys.executable, "-m", "authgate", "migrate"]
    subprocess.run(migrate, env=env, check=True, capture_output=True, cwd=tmp_path)
    return env


@pytest.mark.slow
def test_a_started_worker_has_not_loaded_what_only_some_requests_need(tmp_path: Path) -> None:
    """`authgate serve`'s imports and a started app, at the default settings."""
    assert _loaded_after(_STARTED_APP, _serving_env(tmp_path)) == []


@pytest.mark.slow
def test_a_worker_with_the_metrics_on_loads_prometheus_client(tmp_path: Path) -> None:
    env = _serving_env(tmp_path, AUTHGATE_METRICS_TOKEN="m" * 40)
    assert _loaded_after(_STARTED_APP, env) == ["prometheus_client"]


@pytest.mark.slow
def test_the_username_checks_load_icu_when_first_used() -> None:
    code = """
        from authgate.core.identity import username_columns, username_format_problems
        assert username_format_problems("ᴀce") != []  # a character outside the profile
        assert username_columns("Admin")["username_key"] == "admin"
    """
    # ICU's libraries, through its C API: not PyICU's extension, twice their memory.
    assert _loaded_after(code) == ["libicu"]


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_argon2s_memory_is_held_once_per_hashing_thread(threads: int) -> None:
    """At production cost, 48 hashes asked for 16 at a time: at most one argon2id buffer per
    hashing thread in memory at once (the pool bounds the hashes in flight), and no more kept
    after them. glibc keeps each thread's buffer in that thread's arena for its next hash
    (docs/scaling.md): giving it back costs 40-50% more CPU per hash in page faults."""
    code = f"""
        import asyncio, re
        from pathlib import Path
        from authgate.core.passwords import Passwords
        from authgate.settings import Settings

        def kib(field):
            status = Path("/proc/self/status").read_text()
            return int(re.search(rf"^{{field}}:\\s+(\\d+) kB", status, re.M).group(1))

        fields = ("time_cost", "memory_cost_kib", "parallelism")
        cost = {{n: Settings.model_fields[f"argon2_{{n}}"].default for n in fields}}

        async def main():
            passwords = Passwords(**cost, min_length=8, threads={threads})
            before = kib("VmRSS")
            for _ in range(3):
                await asyncio.gather(*(passwords.hash("a password") for _ in range(16)))
            print(cost["memory_cost_kib"], kib("VmHWM") - before, kib("VmRSS") - before)
            passwords.close()

        asyncio.run(main())
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    buffer, peak, kept = map(int, done.stdout.split())
    assert buffer >= 19 * 1024  # OWASP's minimum, the settings' floor
    slack = 4 * 1024  # the hashing threads' stacks and Python's own
    assert peak <= threads * buffer + slack
    assert kept <= threads * buffer + slack
