"""WSGI entry point for gunicorn: Django, with the answers each worker keeps served at
the door (weather/replay.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weatherproject.settings")

django_application = get_wsgi_application()

from weather.replay import KeptAnswers  # noqa: E402  (the app registry is ready only now)

application = KeptAnswers(django_application)
