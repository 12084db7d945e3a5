"""manage.py seed_bench --users N --password P --tokens-out FILE

Creates users user0..user{N-1} (email userI@example.com) that all share one
password hash computed once, gives each one DRF auth token, and writes the
token keys to FILE, one per line, in user order (line I is userI's token).

Idempotent: users that already exist get their password reset to the shared
hash and keep their existing token; only the missing rows are inserted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

BATCH = 2000


class Command(BaseCommand):
    help = "Bulk-create benchmark users with one shared password hash and one token each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, required=True, help="number of users N")
        parser.add_argument("--password", required=True, help="password shared by all users")
        parser.add_argument(
            "--tokens-out", required=True, help="file receiving the token keys, one per line"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n: int = options["users"]
        if n < 0:
            raise CommandError("--users must be >= 0")
        out = Path(options["tokens_out"])
        started = time.perf_counter()

        user_model = get_user_model()
        password_hash = make_password(options["password"])  # once: hashing is slow by design
        usernames = [f"user{i}" for i in range(n)]

        with transaction.atomic():
            existing: dict[str, int] = {}
            for start in range(0, n, BATCH):
                chunk = usernames[start : start + BATCH]
                existing.update(
                    user_model.objects.filter(username__in=chunk).values_list("username", "pk")
                )
                user_model.objects.filter(username__in=chunk).update(password=password_hash)

            missing = [
                user_model(username=name, email=f"{name}@example.com", password=password_hash)
                for name in usernames
                if name not in existing
            ]
            user_model.objects.bulk_create(missing, batch_size=BATCH)

            ids: dict[str, int] = {}
            for start in range(0, n, BATCH):
                chunk = usernames[start : start + BATCH]
                ids.update(
                    user_model.objects.filter(username__in=chunk).values_list("username", "pk")
                )

            all_ids = list(ids.values())
            keys: dict[int, str] = {}
            for start in range(0, len(all_ids), BATCH):
                keys.update(
                    Token.objects.filter(user_id__in=all_ids[start : start + BATCH]).values_list(
                        "user_id", "key"
                    )
                )

            new_tokens = []
            for name in usernames:
                uid = ids[name]
                if uid not in keys:
                    token = Token(key=Token.generate_key(), user_id=uid)
                    keys[uid] = token.key
                    new_tokens.append(token)
            Token.objects.bulk_create(new_tokens, batch_size=BATCH)

        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{keys[ids[name]]}\n" for name in usernames), encoding="ascii")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"seeded {n} users ({len(missing)} new, {len(new_tokens)} new tokens) "
            f"in {elapsed:.2f}s; tokens -> {out}"
        )
