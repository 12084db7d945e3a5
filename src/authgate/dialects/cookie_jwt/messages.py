"""The /u/api/ dialect's error messages (`{"detail": ...}`, as the original's FastAPI answers).
The `ru` texts follow the original's wording (../shared/seeds/003_*.txt) where it has one.
Success bodies are the contract's fixed English texts and are not translated.

They live here, not in http/catalogue.py: these texts belong to this dialect's wire alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from authgate.http.i18n import word

MESSAGES: dict[str, dict[str, str]] = {
    "invalid_credentials": {"en": "Invalid credentials", "ru": "Неверные учетные данные"},
    "superuser_login": {
        "en": "A superuser cannot log in through this endpoint",
        "ru": "Суперпользователь не может авторизоваться через этот эндпоинт",
    },
    "superuser_refresh": {
        "en": "Tokens of a superuser cannot be refreshed through this endpoint",
        "ru": "Суперпользователь не может обновлять токены через этот эндпоинт",
    },
    "refresh_missing": {
        "en": "The refresh token is missing",
        "ru": "Отсутствует refresh_token",
    },
    "refresh_invalid": {
        "en": "The refresh token is invalid or expired",
        "ru": "Токен refresh_token невалиден или истек",
    },
    "not_authenticated": {"en": "Not authenticated", "ru": "Не выполнена аутентификация"},
    "token_invalid": {
        "en": "The access token is invalid or expired",
        "ru": "Токен access_token невалиден или истек",
    },
    "permission_denied": {
        "en": "You do not have permission to perform this action",
        "ru": "У вас нет прав на выполнение этого запроса",
    },
    "csrf_failed": {
        "en": "CSRF check failed: the X-CSRF-Token header does not match the csrf_token cookie",
        "ru": "Проверка CSRF не пройдена: заголовок X-CSRF-Token не совпадает с cookie csrf_token",
    },
    "cross_site_origin": {
        "en": "Cross-site request refused: its Origin ({origin}) is neither this server's "
        "origin nor in AUTHGATE_CORS_ALLOWED_ORIGINS",
        "ru": "Межсайтовый запрос отклонен: его Origin ({origin}) не совпадает с origin "
        "этого сервера и не указан в AUTHGATE_CORS_ALLOWED_ORIGINS",
    },
    "cross_site_fetch": {
        "en": "Cross-site request refused: the browser sent it from another site "
        "(Sec-Fetch-Site: {fetch_site}) without an allowed Origin",
        "ru": "Межсайтовый запрос отклонен: браузер отправил его с другого сайта "
        "(Sec-Fetch-Site: {fetch_site}) без разрешенного Origin",
    },
    "unsupported_media_type": {
        "en": 'Unsupported media type "{media_type}" in request.',
        "ru": 'Неподдерживаемый тип данных "{media_type}" в запросе.',
    },
    "parse_error": {
        "en": "There was an error parsing the body",
        "ru": "Не удалось разобрать тело запроса",
    },
    "not_found": {"en": "Not Found", "ru": "Не найдено"},
    "method_not_allowed": {"en": "Method Not Allowed", "ru": "Метод не разрешен"},
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
        "en": "Too many requests, try again in {wait} {seconds}",
        "ru": "Слишком много запросов, повторите через {wait} {seconds}",
    },
    "server_error": {"en": "Internal Server Error", "ru": "Внутренняя ошибка сервера"},
    "service_unavailable": {
        "en": "Service temporarily unavailable, try again later",
        "ru": "Сервис временно недоступен, попробуйте позже",
    },
    # A reused refresh token ends its login (core/jwt.py); the answer says so.
    "token_reused": {
        "en": "This refresh token was already used; the session it belonged to has been ended"
        " for safety. Please log in again.",
        "ru": "Этот refresh-токен уже был использован; сеанс, к которому он относился, завершен"
        " из соображений безопасности. Войдите снова.",
    },
    "session_ended": {
        "en": "This session was ended because one of its refresh tokens was used twice."
        " Please log in again.",
        "ru": "Этот сеанс завершен, потому что один из его refresh-токенов был использован"
        " дважды. Войдите снова.",
    },
}


def message(code: str, language: str, params: Mapping[str, object] | None = None) -> str:
    """The message `code` in `language` (English when it has no such text), filled in."""
    return word(MESSAGES, code, language, params, fallback="server_error")
