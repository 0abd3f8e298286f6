"""The floor every cached path is measured against: bare Django, in one file.

Only ``SecurityMiddleware`` and ``CommonMiddleware``, no app of the project's, and one
view that reads one row by key from SQLite through a cursor: the least a real Django
request does. It runs under gunicorn with the same flags as the app (access log
included), so what a figure shows beside it is what this project adds.
``BARE_DJANGO_DB`` names the SQLite file; it is made, with its one row, on import.
"""

from __future__ import annotations

import os
import sqlite3

from django.conf import settings

DATABASE = os.environ["BARE_DJANGO_DB"]
with sqlite3.connect(DATABASE) as made:
    made.execute("CREATE TABLE IF NOT EXISTS place (id INTEGER PRIMARY KEY, name TEXT)")
    made.execute("INSERT OR IGNORE INTO place (id, name) VALUES (1, 'London')")

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-django-floor-not-secret",  # noqa: S106 (serves nothing but a benchmark)
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE}},
    INSTALLED_APPS=[],
    USE_TZ=True,
)

import django  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def one_row(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name FROM place WHERE id = %s", [1])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0], "name": row[1]})


urlpatterns = [path("", one_row)]
application = get_wsgi_application()
