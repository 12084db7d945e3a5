"""The text of every query, once, with :name parameters (sqlite3 takes them as written;
postgres.py rewrites them to $n)."""

from __future__ import annotations

from authgate.store.schema import auth_user

USER_COLUMNS = (
    "id, username, email, first_name, last_name, password, is_active, is_staff, is_superuser,"
    " role, date_joined, last_login"
)
_USER_COLUMNS_OF_U = ", ".join(f"u.{c.strip()}" for c in USER_COLUMNS.split(","))

INSERT_USER = (
    "INSERT INTO auth_user (username, username_key, email, email_key, first_name, last_name,"
    " password, is_active, is_staff, is_superuser, role, date_joined)"
    " VALUES (:username, :username_key, :email, :email_key, :first_name, :last_name,"
    " :password_hash, :is_active, :is_staff, :is_superuser, :role, :date_joined)"
    " RETURNING id"
)
USER_BY_ID = f"SELECT {USER_COLUMNS} FROM auth_user WHERE id = :id"  # noqa: S608 constant text
USER_BY_USERNAME_KEY = f"SELECT {USER_COLUMNS} FROM auth_user WHERE username_key = :key"  # noqa: S608
USER_BY_EMAIL_KEY = f"SELECT {USER_COLUMNS} FROM auth_user WHERE email_key = :key"  # noqa: S608
ALL_USERS = f"SELECT {USER_COLUMNS} FROM auth_user ORDER BY id"  # noqa: S608
DELETE_USER = "DELETE FROM auth_user WHERE id = :id"

# The hot path: one primary-key read joined to its user.
PRINCIPAL_BY_TOKEN_DIGEST = (
    f"SELECT {_USER_COLUMNS_OF_U}, t.created_at AS token_created_at,"  # noqa: S608
    " t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at"
    " FROM auth_token t JOIN auth_user u ON u.id = t.user_id WHERE t.digest = :digest"
)
INSERT_TOKEN = (
    "INSERT INTO auth_token (digest, user_id, created_at, expires_at)"
    " VALUES (:digest, :user_id, :created_at, :expires_at)"
)
TOUCH_TOKEN = "UPDATE auth_token SET last_used_at = :at WHERE digest = :digest"
DELETE_TOKEN = "DELETE FROM auth_token WHERE digest = :digest"
DELETE_USER_TOKENS = "DELETE FROM auth_token WHERE user_id = :user_id"

APPEND_REVOCATION = "INSERT INTO revocation (user_id, created_at) VALUES (:user_id, :created_at)"
LAST_REVOCATION_ID = "SELECT COALESCE(MAX(id), 0) FROM revocation"
REVOCATIONS_AFTER = "SELECT id, user_id FROM revocation WHERE id > :after ORDER BY id"
# The newest row always stays, so MAX(id) (where a new reader starts) never goes back.
PRUNE_REVOCATIONS = (
    "DELETE FROM revocation WHERE created_at < :before AND id < (SELECT MAX(id) FROM revocation)"
)

# JWTs (core/jwt.py). A used refresh token's jti goes in once: the insert that finds it
# already there is the reuse, so two concurrent refreshes cannot both succeed.
BLACKLIST_JTI = (
    "INSERT INTO jwt_blacklist (jti, user_id, expires_at, created_at)"
    " VALUES (:jti, :user_id, :expires_at, :created_at) ON CONFLICT (jti) DO NOTHING"
)
JTI_BLACKLISTED = "SELECT 1 FROM jwt_blacklist WHERE jti = :jti"
PRUNE_JWT_BLACKLIST = "DELETE FROM jwt_blacklist WHERE expires_at < :before"
# A JWT's user and their JWT generation, in one read.
JWT_SUBJECT = (
    f"SELECT {_USER_COLUMNS_OF_U}, COALESCE(v.version, 0) AS jwt_version"  # noqa: S608
    " FROM auth_user u LEFT JOIN jwt_token_version v ON v.user_id = u.id WHERE u.id = :id"
)
BUMP_JWT_VERSION = (
    "INSERT INTO jwt_token_version (user_id, version) VALUES (:user_id, 1)"
    " ON CONFLICT (user_id) DO UPDATE SET version = jwt_token_version.version + 1"
)

# Columns update_user may change (all but the id and date_joined); anything else is refused
# before SQL is built.
UPDATABLE_USER_COLUMNS = frozenset(c.name for c in auth_user.c) - {"id", "date_joined"}


def update_user(columns: list[str]) -> str:
    """UPDATE of the given columns of one user; `columns` must be UPDATABLE_USER_COLUMNS."""
    unknown = set(columns) - UPDATABLE_USER_COLUMNS
    if unknown or not columns:
        raise ValueError(f"cannot update columns {sorted(unknown)}")
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    return f"UPDATE auth_user SET {assignments} WHERE id = :id"  # noqa: S608 allow-listed
