"""Values the schema and the wire format depend on: constants, never settings."""

from __future__ import annotations

USERNAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
# Longest password accepted anywhere, refused before it is hashed (ASVS asks for >= 64).
PASSWORD_MAX_LENGTH = 4096
NAME_MAX_LENGTH = 150
# 160 bits from `secrets`, rendered as 40 lowercase hex characters, as DRF's tokens.
TOKEN_BYTES = 20
TOKEN_DIGEST_LENGTH = 64
# A token's last_used_at is rewritten at most this often, so the hot path rarely writes.
TOKEN_TOUCH_INTERVAL_SECONDS = 60
# Records of the users/towns API (core/groups.py, core/towns.py), as the schema sizes them:
# Django's lengths (auth.Group.name, auth.Permission.name and codename), and a town's.
GROUP_NAME_MAX_LENGTH = 150
PERMISSION_NAME_MAX_LENGTH = 255
PERMISSION_CODENAME_MAX_LENGTH = 100
TOWN_NAME_MAX_LENGTH = 255  # ours: the users/towns API gives towns no length
