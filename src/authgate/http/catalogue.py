"""Every message authgate words, by code, in English and Russian.

English follows Django, DRF and Djoser word for word; Russian is what the real stack answers
to `Accept-Language: ru` (DRF's `ru_RU` catalogue, which gettext picks first). Where upstream
answers in English even then (JSON parse errors, Djoser's username mismatch), so do we.
Placeholders use str.format names.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # Authentication, as DRF words it
    "not_authenticated": {
        "en": "Authentication credentials were not provided.",
        "ru": "Учетные данные не были предоставлены.",
    },
    "token_invalid": {"en": "Invalid token.", "ru": "Недействительный токен."},
    "user_inactive": {
        "en": "User inactive or deleted.",
        "ru": "Пользователь неактивен или удален.",
    },
    "token_header_empty": {
        "en": "Invalid token header. No credentials provided.",
        "ru": "Недопустимый заголовок токена. Не предоставлены учетные данные.",
    },
    "token_header_spaces": {
        "en": "Invalid token header. Token string should not contain spaces.",
        "ru": "Недопустимый заголовок токена. Токен не должен содержать пробелов.",
    },
    "token_header_invalid_characters": {
        "en": "Invalid token header. Token string should not contain invalid characters.",
        "ru": "Недопустимый заголовок токена. Токен не должен содержать недопустимые символы.",
    },
    "permission_denied": {
        "en": "You do not have permission to perform this action.",
        "ru": "У вас недостаточно прав для выполнения данного действия.",
    },
    # Reading requests, as DRF words it
    "not_found": {"en": "Not found.", "ru": "Страница не найдена."},
    "method_not_allowed": {
        "en": 'Method "{method}" not allowed.',
        "ru": 'Метод "{method}" не разрешен.',
    },
    "not_acceptable": {
        "en": "Could not satisfy the request Accept header.",
        "ru": 'Невозможно удовлетворить "Accept" заголовок запроса.',
    },
    "unsupported_media_type": {
        "en": 'Unsupported media type "{media_type}" in request.',
        "ru": 'Неподдерживаемый тип данных "{media_type}" в запросе.',
    },
    "json_parse_error": {
        "en": "JSON parse error - {reason}",
    },
    "form_parse_error": {"en": "Multipart form parse error - {reason}"},
    # DRF's Throttled (429). Its second sentence is English even to `ru`: DRF formats it before
    # gettext looks it up, so its ru_RU entry never matches (checked against DRF 3.18).
    "throttled": {"en": "Request was throttled.", "ru": "Запрос был проигнорирован."},
    "throttled_wait_one": {"en": "Expected available in {wait} second."},
    "throttled_wait_many": {"en": "Expected available in {wait} seconds."},
    # authgate's own (Django answers an oversized body 400 with a generic page).
    "payload_too_large": {
        "en": "Request body is too large: the limit is {max_bytes} bytes.",
        "ru": "Тело запроса слишком велико: предел {max_bytes} байт.",
    },
    # Field rules, as DRF words them
    "required": {"en": "This field is required.", "ru": "Обязательное поле."},
    "null": {"en": "This field may not be null.", "ru": "Это поле не может быть пустым."},
    "blank": {"en": "This field may not be blank.", "ru": "Это поле не может быть пустым."},
    "max_length": {
        "en": "Ensure this field has no more than {max_length} characters.",
        "ru": "Убедитесь, что это значение содержит не более {max_length} символов.",
    },
    "invalid_email": {
        "en": "Enter a valid email address.",
        "ru": "Введите правильный адрес электронной почты.",
    },
    "invalid_string": {"en": "Not a valid string."},
    "null_characters": {
        "en": "Null characters are not allowed.",
        "ru": "Данные содержат запрещённый символ: ноль-байт",
    },
    "surrogate_characters": {"en": "Surrogate characters are not allowed: U+{code_point}."},
    "invalid_integer": {"en": "A valid integer is required.", "ru": "Введите правильное число."},
    "max_value": {
        "en": "Ensure this value is less than or equal to {max_value}.",
        "ru": "Убедитесь, что значение меньше или равно {max_value}.",
    },
    "min_value": {
        "en": "Ensure this value is greater than or equal to {min_value}.",
        "ru": "Убедитесь, что значение больше или равно {min_value}.",
    },
    "service_unavailable": {
        "en": "Service temporarily unavailable, try again later.",
        "ru": "Сервис временно недоступен, попробуйте позже.",
    },
    "invalid_choice": {
        "en": '"{input}" is not a valid choice.',
        "ru": "Значения {input} нет среди допустимых вариантов.",
    },
    "not_a_dict": {
        "en": "Invalid data. Expected a dictionary, but got {datatype}.",
        "ru": "Недопустимые данные. Ожидался dictionary, но был получен {datatype}.",
    },
    "no_data": {"en": "No data provided"},  # DRF leaves it untranslated
    "invalid": {"en": "Invalid value.", "ru": "Недопустимое значение."},
    # Accounts, as Django and Djoser word them
    "invalid_credentials": {
        "en": "Unable to log in with provided credentials.",
        "ru": "Невозможно войти с предоставленными учетными данными.",
    },
    "username_exists": {
        "en": "A user with that username already exists.",
        "ru": "Пользователь с таким именем уже существует.",
    },
    "email_exists": {
        "en": "User with this Email address already exists.",
        "ru": "Пользователь с таким адресом электронной почты уже существует.",
    },
    "invalid_username": {
        "en": "Enter a valid username. This value may contain only letters, numbers,"
        " and @/./+/-/_ characters.",
        "ru": "Введите правильное имя пользователя. Оно может содержать только буквы,"
        " цифры и знаки @/./+/-/_.",
    },
    "password_too_similar": {
        "en": "The password is too similar to the {verbose_name}.",
        "ru": "Введённый пароль слишком похож на {verbose_name}.",
    },
    "password_too_short": {
        "en": "This password is too short. It must contain at least {min_length} {characters}.",
        "ru": "Введённый пароль слишком короткий. Он должен состоять из как минимум"
        " {min_length} {characters}.",
    },
    "password_too_common": {
        "en": "This password is too common.",
        "ru": "Введённый пароль слишком широко распространён.",
    },
    "password_entirely_numeric": {
        "en": "This password is entirely numeric.",
        "ru": "Введённый пароль состоит только из цифр.",
    },
    # Field labels of DRF's OPTIONS metadata: a model field's verbose name is translated,
    # a label DRF derives from a plain field's name is not.
    "label_email_address": {"en": "Email address", "ru": "Адрес электронной почты"},
    "label_id": {"en": "ID"},
    "label_username": {"en": "Username", "ru": "Имя пользователя"},
    "help_username": {
        "en": "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.",
        "ru": "Обязательное поле. Не более 150 символов. Только буквы, цифры и символы @/./+/-/_.",
    },
    "label_plain_username": {"en": "Username"},
    "label_plain_email": {"en": "Email"},
    "label_plain_password": {"en": "Password"},
    "field_username": {"en": "username", "ru": "имя пользователя"},
    "field_email": {"en": "email address", "ru": "адрес электронной почты"},
    "field_first_name": {"en": "first name", "ru": "имя"},
    "field_last_name": {"en": "last name", "ru": "фамилия"},
    "invalid_password": {"en": "Invalid password.", "ru": "Неправильный пароль."},
    "password_mismatch": {
        "en": "The two password fields didn't match.",
        "ru": "Два пароля не совпадают.",
    },
    "username_mismatch": {
        "en": "The two username fields didn't match.",
    },
    "invalid_uid": {
        "en": "Invalid user id or user doesn't exist.",
        "ru": "Неверный идентификатор пользователя или пользователь не существует.",
    },
    "invalid_token_for_user": {
        "en": "Invalid token for given user.",
        "ru": "Неверный токен для данного пользователя.",
    },
    "stale_token": {
        "en": "Stale token for given user.",
        "ru": "Устаревший токен для данного пользователя.",
    },
    "cannot_create_user": {
        "en": "Unable to create account.",
        "ru": "Невозможно создать учетную запись.",
    },
    # Users/towns records: DRF's PrimaryKeyRelatedField / ManyRelatedField (`towns`, ...), and
    # the unique names of towns, groups and permissions (Django's unique-field wording).
    "pk_does_not_exist": {
        "en": 'Invalid pk "{pk_value}" - object does not exist.',
        "ru": 'Недопустимый первичный ключ "{pk_value}" - объект не существует.',
    },
    "pk_incorrect_type": {
        "en": "Incorrect type. Expected pk value, received {data_type}.",
        "ru": "Некорректный тип. Ожидалось значение первичного ключа, получен {data_type}.",
    },
    "not_a_list": {
        "en": 'Expected a list of items but got type "{input_type}".',
        "ru": 'Ожидался list со значениями, но был получен "{input_type}".',
    },
    "town_exists": {
        "en": "town with this name already exists.",
        "ru": "Город с таким названием уже существует.",
    },
    "group_exists": {
        "en": "group with this name already exists.",
        "ru": "группа с таким имя уже существует.",
    },
    "permission_exists": {
        "en": "permission with this codename already exists.",
        "ru": "право с таким кодовое имя уже существует.",
    },
    # SimpleJWT 5.5, with the Russian of its ru_RU catalogue. Its fuzzy entries ("Token is
    # invalid", "Token is expired", "...for the given token.") are not compiled, so the real
    # stack answers them in English even to `ru`; so do we.
    "jwt_no_active_account": {
        "en": "No active account found with the given credentials",
        "ru": "Не найдено активной учетной записи с указанными данными",
    },
    "jwt_no_active_account_for_token": {"en": "No active account found for the given token."},
    "jwt_invalid": {"en": "Token is invalid"},
    "jwt_expired": {"en": "Token is expired"},
    "jwt_blacklisted": {"en": "Token is blacklisted", "ru": "Токен занесен в черный список"},
    "jwt_wrong_type": {"en": "Token has wrong type", "ru": "Токен имеет неправильный тип"},
    "jwt_no_type": {"en": "Token has no type", "ru": "Токен не имеет типа"},
    "jwt_no_id": {"en": "Token has no id", "ru": "У токена нет идентификатора"},
    "jwt_missing_claim": {
        "en": "Token has no '{claim}' claim",
        "ru": "Токен не содержит '{claim}'",
    },
    "jwt_bad_authorization_header": {
        "en": "Authorization header must contain two space-delimited values",
        "ru": "Заголовок авторизации должен содержать два значения, разделенных пробелом",
    },
    "jwt_not_valid_for_any_token_type": {
        "en": "Given token not valid for any token type",
        "ru": "Данный токен недействителен для любого типа токена",
    },
    "jwt_no_user_id": {
        "en": "Token contained no recognizable user identification",
        "ru": "Токен не содержит идентификатор пользователя",
    },
    "jwt_user_not_found": {"en": "User not found", "ru": "Пользователь не найден"},
    "jwt_user_inactive": {"en": "User is inactive", "ru": "Пользователь неактивен"},
    "jwt_password_changed": {"en": "The user's password has been changed."},
    # authgate's own (CONTRACT 7.8): a reused refresh token ends its login, and says so.
    "jwt_reused": {
        "en": "This refresh token was already used; the session it belonged to has been ended"
        " for safety. Please log in again.",
        "ru": "Этот refresh-токен уже был использован; сеанс, к которому он относился, завершен"
        " из соображений безопасности. Войдите снова.",
    },
    "jwt_session_ended": {
        "en": "This session was ended because one of its refresh tokens was used twice."
        " Please log in again.",
        "ru": "Этот сеанс завершен, потому что один из его refresh-токенов был использован"
        " дважды. Войдите снова.",
    },
    # Labels DRF derives from the SimpleJWT serializers' field names (never translated).
    "label_plain_token": {"en": "Token"},
    "label_plain_refresh": {"en": "Refresh"},
    "label_plain_access": {"en": "Access"},
}


# authgate's own words for its input limits in the dialects that are not DRF (the envelope API
# and the cookie JWT API): one text each, which those dialects' catalogues include.
LIMIT_MESSAGES: dict[str, dict[str, str]] = {
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
}


def plural_ru(number: int, forms: tuple[str, str, str]) -> str:
    """The Russian plural form for `number`: (one, few, many), as gettext's ru rule."""
    if number % 10 == 1 and number % 100 != 11:
        return forms[0]
    if 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14:
        return forms[1]
    return forms[2]
