"""The /u/api/ dialect's error messages (`{"detail": ...}`, as the original's FastAPI answers).
The `ru` texts follow the original's wording (../shared/seeds/003_*.txt) where it has one.
Success bodies are the contract's fixed English texts and are not translated.

Texts of this dialect's wire alone live here; those it shares with DRF's dialects, or with
the other plain JSON dialect (LIMIT_MESSAGES), are taken from http/catalogue.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from authgate.http.catalogue import LIMIT_MESSAGES, MESSAGES as DRF_MESSAGES
from authgate.http.i18n import word

MESSAGES: dict[str, dict[str, str]] = {
    "unsupported_media_type": DRF_MESSAGES["unsupported_media_type"],
    # A reused refresh token ends its login (core/jwt.py); the answer says so, in the words
    # the SimpleJWT API uses.
    "token_reused": DRF_MESSAGES["jwt_reused"],
    "session_ended": DRF_MESSAGES["jwt_session_ended"],
    **LIMIT_MESSAGES,
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
    "parse_error": {
        "en": "There was an error parsing the body",
        "ru": "Не удалось разобрать тело запроса",
    },
    "not_found": {"en": "Not Found", "ru": "Не найдено"},
    "method_not_allowed": {"en": "Method Not Allowed", "ru": "Метод не разрешен"},
    "throttled": {
        "en": "Too many requests, try again in {wait} {seconds}",
        "ru": "Слишком много запросов, повторите через {wait} {seconds}",
    },
    "server_error": {"en": "Internal Server Error", "ru": "Внутренняя ошибка сервера"},
    "service_unavailable": {
        "en": "Service temporarily unavailable, try again later",
        "ru": "Сервис временно недоступен, попробуйте позже",
    },
}


def message(code: str, language: str, params: Mapping[str, object] | None = None) -> str:
    """The message `code` in `language` (English when it has no such text), filled in."""
    return word(MESSAGES, code, language, params, fallback="server_error")
