"""WSGI entry point of the reference Djoser project (gunicorn djoser_ref.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djoser_ref.settings")

application = get_wsgi_application()
