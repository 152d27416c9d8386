from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from civic import views

# The admin's own log-in form would skip allauth's: its rate limits and the second factor.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/", include("civic.api_urls")),
    path("", include("accounts.urls")),
    path("", include("polls.urls")),
    path("", include("rewards.urls")),
    path("", include("novelties.urls")),
    path("", include("discussions.urls")),
    path("admin/", admin.site.urls),
    path(f"{settings.MEDIA_URL.lstrip('/')}<path:path>", views.media_file, name="media_file"),
]
