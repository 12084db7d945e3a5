from django.apps import AppConfig


class BenchSeedConfig(AppConfig):
    name = "bench_seed"
    default_auto_field = "django.db.models.AutoField"
