"""The moving parts of the benchmark: servers pinned to one core, wrk pinned to the other,
readings from /proc, and argon2id's own rate."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type

from authgate.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WRK_DIR = BENCH_DIR / "wrk"
WRK_TIMEOUT = "30s"  # Djoser's PBKDF2 endpoints queue for seconds behind one sync worker
CLK_TCK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


# ---------------------------------------------------------------------------- tools


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: apt-get install -y wrk", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still missing after apt-get install")
    return found


def require_taskset() -> None:
    if not shutil.which("taskset"):
        raise RuntimeError("taskset (util-linux) is needed to pin servers and wrk to cores")


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout + done.stderr).strip().splitlines() or ["?"]
    return first[0].split(" [", 1)[0].split(" Copyright", 1)[0].strip()


# --------------------------------------------------------------------- source trees


def export_src(revision: str, into: Path) -> Path:
    """The `src/` of `revision` (`git archive`), unpacked under `into`."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "src.tar"
    subprocess.run(
        ["git", "-C", str(REPO), "archive", "--output", str(archive), revision, "src"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


HEAD_OF_TREE = (
    "from alembic.script import ScriptDirectory\n"
    "from authgate.store.migrate import alembic_config\n"
    "print(ScriptDirectory.from_config(alembic_config('sqlite://')).get_current_head())"
)


def alembic_head(src: Path) -> str:
    """The newest migration of the authgate package under `src` (a tree's `src/`)."""
    return subprocess.run(
        [sys.executable, "-c", HEAD_OF_TREE],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    ).stdout.strip()


# ------------------------------------------------------------------------------ /proc


def children(pid: int) -> list[int]:
    """Direct children of a process (every thread's children list)."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def serving_pids(pid: int) -> list[int]:
    """The processes that answer HTTP: the worker children if there are any (gunicorn,
    `authgate serve --workers N`: uvicorn's master forks them), else the process itself
    (`authgate serve` with 1 worker runs uvicorn in-process)."""
    kids = children(pid)
    if len(kids) == 1:
        return serving_pids(kids[0])
    return kids or [pid]


def proc_status_kib(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    if match is None:
        msg = f"no {field} in /proc/{pid}/status"
        raise RuntimeError(msg)
    return int(match.group(1))


def cpu_seconds(*pids: int) -> float:
    """User + system CPU time of processes, all their threads included."""
    total = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def assignments(pairs: Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` arguments (a script's repeatable --set or --env) as a mapping; one clear
    line, not a traceback, for one without `=`."""
    if bad := [pair for pair in pairs if "=" not in pair]:
        raise SystemExit(f"expected NAME=VALUE, got {bad[0]!r}")
    return dict(pair.split("=", 1) for pair in pairs)


def busiest_thread_seconds(pids: Sequence[int], during: Callable[[], T]) -> tuple[T, float]:
    """`during()`'s result, and the CPU time that each process's busiest thread but its first
    (the event loop's) spent meanwhile, summed over the processes: for a login run, the
    hashing threads (core/passwords.py; CPython 3.11 does not name threads for the kernel)."""
    before = _task_seconds(pids)
    result = during()
    after = _task_seconds(pids)
    busiest: dict[int, float] = {}
    for (pid, tid), seconds in after.items():
        if tid != pid:
            spent = seconds - before.get((pid, tid), 0.0)
            busiest[pid] = max(busiest.get(pid, 0.0), spent)
    return result, sum(busiest.values())


def _task_seconds(pids: Sequence[int]) -> dict[tuple[int, int], float]:
    """User + system CPU time of each thread of the processes."""
    seconds = {}
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                stat = (task / "stat").read_text()
            except OSError:  # the thread ended meanwhile
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            seconds[(pid, int(task.name))] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return seconds


def wait_idle(*pids: int, timeout: float = 60.0, busy_share: float = 0.05) -> float:
    """Wait until the processes burn < busy_share of a core for two 0.25 s samples in a row.

    After a warm-up, a server may still owe work to requests wrk gave up on (a sync gunicorn
    worker processes its whole backlog); measuring on top of that would be unfair. Returns the
    seconds waited."""
    started = time.monotonic()
    quiet = 0
    last = cpu_seconds(*pids)
    while quiet < 2 and time.monotonic() - started < timeout:
        time.sleep(0.25)
        now = cpu_seconds(*pids)
        quiet = quiet + 1 if now - last < busy_share * 0.25 else 0
        last = now
    return time.monotonic() - started


# --------------------------------------------------------------------------- servers


def answers_http(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return True


@dataclass
class Spawned:
    """A server process started in its own session (so its group can be signalled)."""

    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def pinned(cpu: int | str, cmd: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd]


def postgres_processes() -> list[int]:
    """The pids of this machine's PostgreSQL processes (the postmaster and its children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def postgres_pinned(cpu: int) -> Iterator[int]:
    """Every local PostgreSQL process pinned to `cpu` (wrk's core) for the block, as on a
    deployment whose database runs on another machine: the backends a server's pool opens
    fork from the pinned postmaster and inherit it. Yields how many were pinned (0 without
    the right to); on leaving, every PostgreSQL process gets its own affinity back, or the
    machine's whole set for those born inside the block."""
    everything = set(range(os.cpu_count() or 1))
    before: dict[int, set[int]] = {}
    for pid in postgres_processes():
        with contextlib.suppress(OSError):
            before[pid] = os.sched_getaffinity(pid)
            os.sched_setaffinity(pid, {cpu})
    try:
        yield len(before)
    finally:
        for pid in postgres_processes():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, before.get(pid, everything))


# The bench's login, registration and probe limits: one load generator logs in the same
# accounts and signs up new ones from one address all the time. The limits stay on, so their
# cost is measured.
BENCH_LIMITS = {
    "AUTHGATE_THROTTLE_LOGIN_PER_CLIENT": "1000000/minute",
    "AUTHGATE_THROTTLE_LOGIN_PER_ACCOUNT": "1000000/minute",
    "AUTHGATE_THROTTLE_REGISTER_PER_CLIENT": "1000000/minute",
    # Each sign-up looks its username and email up, which counts as a probe of whether an
    # account exists (issue 11): 30/hour per address would refuse all but 30 registrations.
    "AUTHGATE_THROTTLE_PROBE_PER_CLIENT": "1000000/minute",
}


def migrated_sqlite(path: Path) -> str:
    """A new SQLite database at `path`, made by `authgate migrate` (this venv's); its URL."""
    url = f"sqlite:///{path}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "migrate"],
        env={**env, "AUTHGATE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"authgate migrate failed:\n{done.stderr[-3000:]}")
    return url


def start_authgate(
    *,
    port: int,
    database_url: str,
    secret_key: str,
    cpu: int | str,
    workdir: Path,
    workers: int = 1,
    settings: Mapping[str, str] | None = None,
    src: Path | None = None,
) -> Spawned:
    """`authgate serve --port P` (1 worker) pinned to `cpu`, at its default settings but for
    BENCH_LIMITS; lockout never triggers, since every bench login is correct. `src`: serve the
    authgate package of another source tree (its `src/`, put first on PYTHONPATH) with this
    venv, as bench/ab.py does."""
    authgate = Path(sys.executable).parent / "authgate"
    serve = [str(authgate), "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd = pinned(cpu, [*serve, "--workers", str(workers)])
    env = {
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_SECRET_KEY": secret_key,
        **BENCH_LIMITS,
        **(settings or {}),
    }
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return spawn(
        cmd, port=port, probe="/auth/users/me/", log=workdir / f"authgate-{port}.log", env=env
    )


def spawn(cmd: list[str], *, port: int, probe: str, log: Path, env: Mapping[str, str]) -> Spawned:
    """Start `cmd` in its own session, from the log's folder (so no stray .env is read) and
    without the caller's AUTHGATE_* variables; return once it answers HTTP on `port`."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    child_env.update(env)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=log.parent,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    spawned = Spawned(proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"{' '.join(cmd[:5])} exited with {proc.returncode}:\n{spawned.tail()}"
            raise RuntimeError(msg)
        if answers_http(port, probe):
            return spawned
        time.sleep(0.1)
    spawned.stop()
    msg = f"{' '.join(cmd[:5])} did not answer on port {port}:\n{spawned.tail()}"
    raise RuntimeError(msg)


def start_hello(*, port: int, cpu: int, workdir: Path) -> Spawned:
    """bench/hello.py (bare Starlette on uvicorn, authgate's options) pinned to `cpu`."""
    cmd = pinned(cpu, [sys.executable, str(BENCH_DIR / "hello.py"), "--port", str(port)])
    return spawn(cmd, port=port, probe="/", log=workdir / f"hello-{port}.log", env={})


# ------------------------------------------------------------------------------- wrk


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One wrk run, from the BENCH_RESULT line that bench/wrk/common.lua prints."""

    requests: int
    duration_us: int
    non2xx: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float
    raw: str

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def flagged(self) -> bool:
        return self.non2xx > 0 or self.socket_errors > 0 or self.requests == 0


def parse_wrk(output: str) -> WrkResult:
    """The BENCH_RESULT line of a wrk run with a bench/wrk script."""
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            data: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            data.pop("status_errors", None)  # >399 only; non2xx counts every non-2xx
            return WrkResult(**data, raw=output)
    msg = f"no BENCH_RESULT line in wrk's output:\n{output[-3000:]}"
    raise RuntimeError(msg)


def run_wrk(
    wrk: str,
    *,
    script: str,
    port: int,
    seconds: float,
    connections: int,
    cpu: int,
    env: Mapping[str, str],
) -> WrkResult:
    """`taskset -c cpu wrk -t1 -cN -dS --latency -s bench/wrk/<script>` against 127.0.0.1:port."""
    cmd = pinned(
        cpu,
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            WRK_TIMEOUT,
            "--latency",
            "-s",
            str(WRK_DIR / script),
            f"http://127.0.0.1:{port}/",
        ],
    )
    full_env = {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR), **env}
    done = subprocess.run(
        cmd, env=full_env, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        msg = f"wrk exited {done.returncode}:\n{output[-3000:]}"
        raise RuntimeError(msg)
    return parse_wrk(output)


# ------------------------------------------------------------------------- argon2id


@dataclass(frozen=True, slots=True)
class Argon2Rate:
    verifications: int
    seconds: float
    time_cost: int
    memory_cost_kib: int
    parallelism: int

    @property
    def per_second(self) -> float:
        return self.verifications / self.seconds

    def describe(self) -> str:
        return (
            f"argon2id t={self.time_cost} m={self.memory_cost_kib} KiB p={self.parallelism}: "
            f"{self.per_second:.1f} verifications/s on one core "
            f"({self.verifications} in {self.seconds:.2f}s)"
        )


def argon2_rate(verifications: int, cpu: int) -> Argon2Rate:
    """argon2-cffi verifications per second at authgate's default parameters, pinned to `cpu`."""
    fields = Settings.model_fields
    time_cost: int = fields["argon2_time_cost"].default
    memory: int = fields["argon2_memory_cost_kib"].default
    lanes: int = fields["argon2_parallelism"].default
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory, parallelism=lanes, type=Type.ID
    )
    encoded = hasher.hash("bench-Passw0rd!")
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        for _ in range(2):
            hasher.verify(encoded, "bench-Passw0rd!")
        started = time.perf_counter()
        for _ in range(verifications):
            hasher.verify(encoded, "bench-Passw0rd!")
        seconds = time.perf_counter() - started
    finally:
        os.sched_setaffinity(0, before)
    return Argon2Rate(verifications, seconds, time_cost, memory, lanes)
