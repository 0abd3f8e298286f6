"""Root URLs: the pages in every language, the app's other addresses, the admin.

The pages live under a language prefix (/de/?q=Berlin), English without one; the JSON
API, the probes, robots.txt, the favicon and the admin have one address for everyone.
"""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from weather.urls import page_urls

admin.site.site_header = "Weather dashboard administration"
admin.site.site_title = "Weather admin"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    *i18n_patterns(path("", include(page_urls)), prefix_default_language=False),
    path("", include("weather.urls")),
]
