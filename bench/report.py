"""The benchmark's Markdown report: one table, the targets checked against it, flags and notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness import Argon2Rate, WrkResult

HELLO = "hello"
DJOSER = "djoser"
AUTHGATE_PREFIX = "authgate"
# The one-worker SQLite server every scale figure is compared with, and the scale servers.
SQLITE = "authgate-sqlite"
SQLITE_BIG = "authgate-sqlite-big"  # `me` with a million users (--big-users)
SQLITE_2W = "authgate-sqlite-2w"  # `me`, `login` on two workers over both cores (--two-workers)

ME, LOGIN, REGISTER, ROOT = "me", "login", "register", "hello"
CHECK_TOKEN = "check_token"
# authgate's /u/api/secure_test/ against the reference's SimpleJWT-guarded /jwt-whoami/.
JWT_GET = "jwt_get"
# What a case is compared with on Djoser when Djoser has no such endpoint.
DJOSER_BASELINE = {CHECK_TOKEN: ME}
# The cases a service asks on every request: shown against hello; both held to ≥ 35x Djoser.
HOT_CASES = (ME, CHECK_TOKEN)

ME_VS_DJOSER, ME_VS_HELLO, ME_P99_MS = 35.0, 0.70, 10.0
LOGIN_VS_DJOSER, LOGIN_VS_ARGON2 = 9.0, 0.90
JWT_VS_SIMPLEJWT = 12.0
BIG_VS_SMALL, TWO_WORKERS_VS_ONE, PEAK_RSS_MIB = 0.85, 1.7, 120.0
BUSY_WARNING = 0.85  # a server less busy than this waited for its client
TARGETS = (
    f"`/auth/users/me/` ≥ {ME_VS_DJOSER:g}x Djoser, ≥ {ME_VS_HELLO:.0%} of Starlette hello,"
    f" p99 ≤ {ME_P99_MS:g} ms · `check_token` ≥ {ME_VS_DJOSER:g}x Djoser's `me`"
    f" · `/auth/token/login/` ≥ {LOGIN_VS_DJOSER:g}x Djoser,"
    f" ≥ {LOGIN_VS_ARGON2:.0%} of argon2id's own rate on one core"
    f" · JWT `GET /u/api/secure_test/` ≥ {JWT_VS_SIMPLEJWT:g}x SimpleJWT's `GET /jwt-whoami/`"
)


@dataclass(frozen=True, slots=True)
class Run:
    """One (case, server) measurement; `error` when it could not be measured at all."""

    case: str
    case_label: str
    server: str
    server_label: str
    result: WrkResult | None
    peak_rss_kib: int | None
    cpu_seconds: float | None = None  # the serving process's, during the measured run
    error: str | None = None
    # argon2id's own rate on the server's core just before and after this run (the mean):
    # what a login run is held to, so that load drifting over the bench skews both alike.
    argon2_per_second: float | None = None

    @property
    def rps(self) -> float | None:
        return None if self.result is None else self.result.rps

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.result is None or self.cpu_seconds is None or not self.result.requests:
            return None
        return self.cpu_seconds / self.result.requests * 1e6

    @property
    def busy(self) -> float | None:
        if self.result is None or self.cpu_seconds is None or not self.result.duration_us:
            return None
        return self.cpu_seconds / (self.result.duration_us / 1e6)


def _latency(us: int) -> str:
    if us >= 1_000_000:
        return f"{us / 1e6:.2f} s"
    if us >= 100_000:
        return f"{us / 1e3:.0f} ms"
    return f"{us / 1e3:.2f} ms"


def _cpu(us: float | None) -> str:
    if us is None:
        return ""
    return f"{us / 1e3:.1f} ms" if us >= 10_000 else f"{us:.1f} µs"


def _rate(rps: float) -> str:
    return f"{rps:,.0f}" if rps >= 100 else f"{rps:.2f}"


def _errors(result: WrkResult) -> str:
    text = f"{result.non2xx:,}"
    if result.socket_errors:
        parts = [
            f"{n} {what}"
            for n, what in (
                (result.connect_errors, "connect"),
                (result.read_errors, "read"),
                (result.write_errors, "write"),
                (result.timeouts, "timeout"),
            )
            if n
        ]
        text += f" (+{', '.join(parts)})"
    if result.flagged:
        text += " ⚠"
    return text


class Report:
    """Everything measured, and the figures derived from it."""

    def __init__(self, runs: Sequence[Run], argon2: Argon2Rate | None) -> None:
        self.runs = list(runs)
        self.argon2 = argon2

    def find(self, case: str, server: str) -> Run | None:
        return next((r for r in self.runs if r.case == case and r.server == server), None)

    def _rps(self, case: str, server: str) -> float | None:
        run = self.find(case, server)
        return None if run is None else run.rps

    def vs_djoser(self, run: Run) -> float | None:
        base = self._rps(DJOSER_BASELINE.get(run.case, run.case), DJOSER)
        if not run.server.startswith(AUTHGATE_PREFIX) or not base or run.rps is None:
            return None
        return run.rps / base

    def vs_djoser_cpu(self, run: Run) -> float | None:
        """Like vs_djoser, on CPU time per request (Djoser's over this one's): less noisy."""
        djoser = self.find(DJOSER_BASELINE.get(run.case, run.case), DJOSER)
        base = None if djoser is None else djoser.cpu_us_per_request
        mine = run.cpu_us_per_request
        if not run.server.startswith(AUTHGATE_PREFIX) or base is None or not mine:
            return None
        return base / mine

    def vs_hello(self, run: Run) -> float | None:
        base = self._rps(ROOT, HELLO)
        if run.rps is None or not base:
            return None
        if run.server == HELLO or (
            run.case in (*HOT_CASES, JWT_GET) and run.server.startswith(AUTHGATE_PREFIX)
        ):
            return run.rps / base
        return None

    def vs_hello_cpu(self, run: Run) -> float | None:
        """Like vs_hello, on CPU time per request (hello's over this one's): less noisy."""
        hello = self.find(ROOT, HELLO)
        base = None if hello is None else hello.cpu_us_per_request
        mine = run.cpu_us_per_request
        return None if base is None or not mine else base / mine

    def vs_argon2(self, run: Run) -> float | None:
        if run.rps is None or run.case != LOGIN:
            return None
        if not run.server.startswith(AUTHGATE_PREFIX) or run.server == SQLITE_2W:
            return None  # the target is per core; two workers are held to 1.7x one instead
        if run.argon2_per_second is not None:
            return run.rps / run.argon2_per_second
        return None if self.argon2 is None else run.rps / self.argon2.per_second

    def table(self) -> list[str]:
        lines = [
            "| case | server | req/s | p50 | p99 | non-2xx | server CPU/req | busy | peak RSS"
            " | authgate/Djoser | % of hello | % of argon2 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for run in self.runs:
            if run.result is None:
                lines.append(
                    f"| {run.case_label} | {run.server_label} | failed: {run.error} | | | | | | | |"
                )
                continue
            r = run.result
            rss = "" if run.peak_rss_kib is None else f"{run.peak_rss_kib / 1024:.1f} MiB"
            ratio, hello, argon = self.vs_djoser(run), self.vs_hello(run), self.vs_argon2(run)
            lines.append(
                f"| {run.case_label} | {run.server_label} | {_rate(r.rps)}"
                f" | {_latency(r.p50_us)} | {_latency(r.p99_us)} | {_errors(r)}"
                f" | {_cpu(run.cpu_us_per_request)}"
                f" | {'' if run.busy is None else f'{run.busy:.0%}'} | {rss}"
                f" | {'' if ratio is None else f'{ratio:.1f}x'}"
                f" | {'' if hello is None else f'{hello:.0%}'}"
                f" | {'' if argon is None else f'{argon:.0%}'} |"
            )
        return lines

    def checks(self) -> list[str]:
        """Each target, measured: a checkbox per authgate server."""
        lines: list[str] = []

        def check(ok: bool, text: str) -> None:
            lines.append(f"- [{'x' if ok else ' '}] {text}")

        for run in self.runs:
            if not run.server.startswith(AUTHGATE_PREFIX) or run.result is None:
                continue
            who = run.server_label
            ratio, hello, argon = self.vs_djoser(run), self.vs_hello(run), self.vs_argon2(run)
            if run.case in HOT_CASES:
                case = run.case
                if ratio is not None:
                    by_cpu = self.vs_djoser_cpu(run)
                    extra = "" if by_cpu is None else f"; by CPU/req {by_cpu:.1f}x"
                    check(
                        ratio >= ME_VS_DJOSER,
                        f"{case}, {who}: {ratio:.1f}x Djoser (≥ 35x{extra})",
                    )
                if hello is not None and case == ME:
                    by_cpu = self.vs_hello_cpu(run)
                    extra = "" if by_cpu is None else f"; by CPU/req {by_cpu:.0%}"
                    check(
                        hello >= ME_VS_HELLO, f"{case}, {who}: {hello:.0%} of hello (≥ 70%{extra})"
                    )
                if case == ME:
                    p99 = run.result.p99_us / 1e3
                    check(p99 <= ME_P99_MS, f"me, {who}: p99 {p99:.2f} ms (≤ 10 ms)")
            elif run.case == JWT_GET:
                lines += self._jwt_check(run)
            elif run.case == LOGIN:
                if ratio is not None:
                    check(ratio >= LOGIN_VS_DJOSER, f"login, {who}: {ratio:.1f}x Djoser (≥ 9x)")
                if argon is not None:
                    beside = run.argon2_per_second
                    extra = "" if beside is None else f"; argon2id {beside:.1f}/s around the run"
                    check(
                        argon >= LOGIN_VS_ARGON2,
                        f"login, {who}: {argon:.0%} of argon2 (≥ 90%{extra})",
                    )
        return lines + self._scale_checks()

    def _scale_checks(self) -> list[str]:
        """A million users against the seeded ten thousand, two workers against one, and
        every authgate worker's peak RSS."""
        lines: list[str] = []
        for case, server, target, text in (
            (ME, SQLITE_BIG, BIG_VS_SMALL, "with a million users: {:.0%} of the 10,000-user `me`"),
            (ME, SQLITE_2W, TWO_WORKERS_VS_ONE, "two workers on two cores: {:.2f}x one worker"),
            (
                LOGIN,
                SQLITE_2W,
                TWO_WORKERS_VS_ONE,
                "two workers on two cores: {:.2f}x one worker pinned to one core",
            ),
        ):
            one, rps = self._rps(case, SQLITE), self._rps(case, server)
            if one and rps is not None:
                bound = f"≥ {target:.0%}" if target < 1 else f"≥ {target:g}x"
                box = "x" if rps / one >= target else " "
                lines.append(f"- [{box}] {case} {text.format(rps / one)} ({bound})")
        peaks = [r.peak_rss_kib for r in self.runs if r.server.startswith(AUTHGATE_PREFIX)]
        measured = [kib / 1024 for kib in peaks if kib is not None]
        if measured:
            box = "x" if max(measured) <= PEAK_RSS_MIB else " "
            lines.append(
                f"- [{box}] largest authgate worker's peak RSS: {max(measured):.1f} MiB"
                f" (≤ {PEAK_RSS_MIB:g} MB)"
            )
        return lines

    def _jwt_check(self, run: Run) -> list[str]:
        """jwt_get against SimpleJWT's /jwt-whoami/ (both on one core): req/s, and CPU/req."""
        ratio = self.vs_djoser(run)
        if ratio is None:
            return []
        by_cpu = self.vs_djoser_cpu(run)
        extra = "" if by_cpu is None else f"; by CPU/req {by_cpu:.1f}x"
        box = "x" if ratio >= JWT_VS_SIMPLEJWT else " "
        return [
            f"- [{box}] jwt_get, {run.server_label}: {ratio:.1f}x SimpleJWT"
            f" (≥ {JWT_VS_SIMPLEJWT:g}x{extra})"
        ]

    def flags(self) -> list[str]:
        lines = []
        for run in self.runs:
            if run.result is None:
                lines.append(
                    f"- ⚠ {run.case_label} on {run.server_label}: not measured: {run.error}"
                )
            elif run.result.flagged:
                r = run.result
                lines.append(
                    f"- ⚠ {run.case_label} on {run.server_label}: {r.non2xx} non-2xx of"
                    f" {r.requests} responses, {r.socket_errors} socket errors"
                    f" (connect {r.connect_errors}, read {r.read_errors},"
                    f" write {r.write_errors}, timeout {r.timeouts}): figures are suspect"
                )
            if run.busy is not None and run.busy < BUSY_WARNING:
                lines.append(
                    f"- ⚠ {run.case_label} on {run.server_label}: the server was only"
                    f" {run.busy:.0%} busy, so wrk (or the machine) held it back: its req/s"
                    " understates it; compare CPU/req"
                )
        return lines

    def markdown(self, header: Sequence[str], notes: Sequence[str]) -> str:
        out = [*header, "", f"**Targets** (reported, not asserted): {TARGETS}.", ""]
        out += self.table()
        out.append("")
        if self.argon2 is not None:
            out += [f"argon2id's own rate: {self.argon2.describe()}.", ""]
        out += ["## Against the targets", "", *(self.checks() or ["- (nothing to check)"]), ""]
        none = "- none: every response was 2xx and every server was saturated"
        out += ["## Errors and warnings", "", *(self.flags() or [none]), ""]
        if notes:
            out += ["## Notes", "", *(f"- {n}" for n in notes), ""]
        return "\n".join(out)
