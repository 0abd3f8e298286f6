"""Root URLs: the weather app at the top, the admin at DJANGO_ADMIN_URL."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Weather dashboard administration"
admin.site.site_title = "Weather admin"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("weather.urls")),
]
