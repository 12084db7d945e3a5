"""The envelope dialect's messages. The `ru` texts are the original's own
wording (../shared/seeds/001_*.txt; or DRF's Russian where it quotes DRF); the `en` texts are
their English equivalents.

Texts of this dialect's wire alone live here; those it shares with DRF's dialects, or with
the other plain JSON dialect (LIMIT_MESSAGES), are taken from http/catalogue.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from authgate.http.catalogue import LIMIT_MESSAGES, MESSAGES as DRF_MESSAGES
from authgate.http.i18n import word

MESSAGES: dict[str, dict[str, str]] = {
    # DRF's own texts, which the original quotes
    **{
        code: DRF_MESSAGES[code]
        for code in (
            "not_authenticated",
            "token_invalid",
            "user_inactive",
            "unsupported_media_type",
        )
    },
    **LIMIT_MESSAGES,
    "login_success": {"en": "Login successful", "ru": "Авторизация прошла успешно"},
    "login_missing": {
        "en": "Login or password is missing",
        "ru": "Отсутствует логин или пароль",
    },
    "invalid_credentials": {"en": "Invalid credentials", "ru": "Неверные учетные данные"},
    "logout_success": {"en": "Logged out successfully", "ru": "Выход выполнен успешно"},
    "token_valid": {
        "en": "The token is valid and belongs to the user",
        "ru": "Токен валиден и принадлежит пользователю",
    },
    "username_missing": {
        "en": "Username is not provided",
        "ru": "Не передано имя пользователя",
    },
    "username_mismatch": {
        "en": "The username does not match the token",
        "ru": "Имя пользователя не соответствует токену",
    },
    "parse_error": {
        "en": "The request body could not be parsed: {reason}",
        "ru": "Не удалось разобрать тело запроса: {reason}",
    },
    "not_found": {"en": "Not found.", "ru": "Не найдено."},
    "method_not_allowed": {
        "en": 'Method "{method}" not allowed.',
        "ru": 'Метод "{method}" не разрешен.',
    },
    "throttled": {
        "en": "Too many attempts, try again in {wait} {seconds}",
        "ru": "Слишком много попыток, повторите через {wait} {seconds}",
    },
    "server_error": {"en": "Internal server error", "ru": "Внутренняя ошибка сервера"},
    "service_unavailable": {
        "en": "Service temporarily unavailable, try again later",
        "ru": "Сервис временно недоступен, попробуйте позже",
    },
}


def message(code: str, language: str, params: Mapping[str, object] | None = None) -> str:
    """The message `code` in `language` (English when it has no such text), filled in."""
    return word(MESSAGES, code, language, params, fallback="server_error")
