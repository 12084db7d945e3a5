"""Settings come from AUTHGATE_* variables, with safe defaults and refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from authgate.settings import Settings

STRONG_KEY = "nCA-FYCtXtutezaVo_lhMNdfrOXkp55W35AIpfh05tM"  # secrets.token_urlsafe(32)


def test_defaults_are_safe_for_a_first_start() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./authgate.sqlite3"
    assert settings.login_field == "username"
    assert settings.token_keywords == ("Token", "Bearer")
    assert settings.token_ttl_seconds is None
    assert settings.revoke_tokens_on_password_change is True
    assert settings.send_activation_email is False
    assert (settings.argon2_time_cost, settings.argon2_memory_cost_kib) == (2, 19456)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_LOGIN_FIELD", "email")
    monkeypatch.setenv("AUTHGATE_TOKEN_KEYWORDS", '["Token"]')
    monkeypatch.setenv("AUTHGATE_TOKEN_TTL_SECONDS", "3600")
    settings = Settings(_env_file=None)
    assert (settings.login_field, settings.token_keywords, settings.token_ttl_seconds) == (
        "email",
        ("Token",),
        3600,
    )


def test_prod_refuses_to_start_without_a_real_secret() -> None:
    with pytest.raises(ValidationError, match="AUTHGATE_SECRET_KEY"):
        Settings(_env_file=None, env="prod", smtp_host="mail.example.com")
    with pytest.raises(ValidationError, match="AUTHGATE_SMTP_HOST"):
        Settings(_env_file=None, env="prod", secret_key=STRONG_KEY)
    ready = Settings(
        _env_file=None, env="prod", secret_key=STRONG_KEY, smtp_host="mail.example.com"
    )
    assert ready.env == "prod"


def test_argon2_cannot_be_configured_below_owasp() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, argon2_memory_cost_kib=4096)


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    settings = Settings(_env_file=None, secret_key="very-secret-value-0123456789-abcdef")
    assert "very-secret-value" not in repr(settings)
