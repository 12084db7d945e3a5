"""The envelope dialect's messages. The `ru` texts are the original's own
wording (../shared/seeds/001_*.txt; or DRF's Russian where it quotes DRF); the `en` texts are
their English equivalents.

They live here, not in http/catalogue.py: these texts belong to this dialect's wire alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from authgate.http.i18n import word

MESSAGES: dict[str, dict[str, str]] = {
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
    "not_authenticated": {
        "en": "Authentication credentials were not provided.",
        "ru": "Учетные данные не были предоставлены.",
    },
    "token_invalid": {"en": "Invalid token.", "ru": "Недействительный токен."},
    "user_inactive": {
        "en": "User inactive or deleted.",
        "ru": "Пользователь неактивен или удален.",
    },
    "unsupported_media_type": {
        "en": 'Unsupported media type "{media_type}" in request.',
        "ru": 'Неподдерживаемый тип данных "{media_type}" в запросе.',
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
    "field_too_long": {
        "en": "The field {field} is too long (at most {max_length} characters)",
        "ru": "Поле {field} слишком длинное (не более {max_length} символов)",
    },
    "invalid_characters": {
        "en": "The field {field} holds a character that is not accepted (NUL or a lone surrogate)",
        "ru": "Поле {field} содержит недопустимый символ (NUL или одиночный суррогат)",
    },
    "payload_too_large": {
        "en": "The request body is too large (at most {max_bytes} bytes)",
        "ru": "Слишком большое тело запроса (не более {max_bytes} байт)",
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
