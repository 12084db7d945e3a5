"""Refused settings never show a secret (issue 11, item 8).

pydantic's refusal repeats the input it refused, and a check across settings (prod without
SMTP, a short JWT key) gets every setting as its input: the real `authgate serve` and
`authgate migrate` printed a short `AUTHGATE_JWT_SIGNING_KEY` in full and prefixes of the
secret key and the SMTP password. Each case here starts the real command with one secret
setting among refused settings and looks for the secret, and any 8 characters of it, in
everything the command printed. The settings are refused before any database is opened, so
no database backend is involved.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from authgate.settings import Settings
from tests.support import run_apart, run_here

STRONG_KEY = secrets.token_urlsafe(32)


def _secret(length: int = 40) -> str:
    """A value no message could contain by chance."""
    return secrets.token_urlsafe(length)[:length]


@dataclass(frozen=True)
class Refusal:
    """One refused configuration: the secret setting, its value, the rest of the environment,
    and the setting the refusal must name (the message stays useful without the value)."""

    field: str
    secret: str
    others: dict[str, str]
    names: str

    def environment(self) -> dict[str, str]:
        return {f"AUTHGATE_{self.field.upper()}": self.secret} | self.others


def _refusals() -> list[Refusal]:
    short_key = _secret(20)
    jwt_key = _secret(20)
    database_password = _secret(24)
    redis_password = _secret(24)
    return [
        # The secret refused for itself.
        Refusal("secret_key", short_key, {"AUTHGATE_ENV": "prod"}, "AUTHGATE_SECRET_KEY"),
        Refusal(
            "jwt_signing_key",
            jwt_key,
            {
                "AUTHGATE_ENV": "prod",
                "AUTHGATE_SECRET_KEY": STRONG_KEY,
                "AUTHGATE_SMTP_HOST": "mail.example.com",
            },
            "AUTHGATE_JWT_SIGNING_KEY",
        ),
        Refusal(
            "jwt_signing_key",
            _secret(),
            {"AUTHGATE_JWT_ALGORITHM": "EdDSA"},
            "AUTHGATE_JWT_PRIVATE_KEY_FILE",
        ),
        Refusal(
            "metrics_token",
            _secret(20),
            {
                "AUTHGATE_ENV": "prod",
                "AUTHGATE_SECRET_KEY": STRONG_KEY,
                "AUTHGATE_SMTP_HOST": "mail.example.com",
            },
            "AUTHGATE_METRICS_TOKEN",
        ),
        # A good secret beside another setting's refusal (a check across settings sees all).
        Refusal("secret_key", _secret(48), {"AUTHGATE_ENV": "prod"}, "AUTHGATE_SMTP_HOST"),
        Refusal("smtp_password", _secret(), {"AUTHGATE_ENV": "prod"}, "AUTHGATE_SECRET_KEY"),
        Refusal("superuser_password", _secret(), {"AUTHGATE_ENV": "prod"}, "AUTHGATE_SECRET_KEY"),
        Refusal(
            "database_url",
            f"postgresql://authgate@db.example/authgate?password={database_password}",
            {"AUTHGATE_ENV": "prod"},
            "AUTHGATE_SECRET_KEY",
        ),
        Refusal(
            "redis_url",
            f"redis://redis.example:6379/0?password={redis_password}",
            {"AUTHGATE_ENV": "prod"},
            "AUTHGATE_SECRET_KEY",
        ),
        # A field's own refusal beside a secret.
        Refusal("smtp_password", _secret(), {"AUTHGATE_LOG_LEVEL": "loud"}, "AUTHGATE_LOG_LEVEL"),
    ]


REFUSALS = _refusals()
SECRET_FIELDS = {
    name
    for name, field in Settings.model_fields.items()
    if "SecretStr" in str(field.annotation) or name in {"database_url", "redis_url"}
}


def _secret_part(refusal: Refusal) -> str:
    """The secret itself: the password inside a URL, the whole value otherwise."""
    return refusal.secret.rpartition("password=")[2]


def _assert_never_shown(secret: str, output: str) -> None:
    assert secret not in output
    for start in range(len(secret) - 7):
        assert secret[start : start + 8] not in output, "8 characters of the secret shown"


def test_every_secret_setting_has_a_refusal_case() -> None:
    assert {"secret_key", "jwt_signing_key", "smtp_password", "superuser_password"} <= (
        SECRET_FIELDS
    )
    assert {refusal.field for refusal in REFUSALS} == SECRET_FIELDS


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "migrate"])
@pytest.mark.parametrize(
    "refusal", REFUSALS, ids=[f"{r.field}-refused-for-{r.names}" for r in REFUSALS]
)
def test_refused_settings_never_print_a_secret_or_part_of_it(
    refusal: Refusal, command: str, tmp_path: Path
) -> None:
    # `serve` as a real process, `migrate` through the entry point in this process.
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AUTHGATE_")}
    env |= {"AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.sqlite3'}"}
    env |= refusal.environment()
    done = (run_apart if command == "serve" else run_here)((command,), env, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert refusal.names in output  # still says what is wrong
    _assert_never_shown(_secret_part(refusal), output)


@pytest.mark.parametrize(
    "refusal", REFUSALS, ids=[f"{r.field}-refused-for-{r.names}" for r in REFUSALS]
)
def test_the_settings_loader_refuses_without_values(
    refusal: Refusal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader the app factory uses in each worker, apart from the command line."""
    from authgate.settings import ConfigurationError, load_settings  # new with this fix

    for name, value in refusal.environment().items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as refused:
        load_settings(_env_file=None)
    assert refusal.names in str(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__  # no chained pydantic error repeats the input
    _assert_never_shown(_secret_part(refusal), str(refused.value))
