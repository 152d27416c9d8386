from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from civic import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/", include("civic.api_urls")),
    path("", include("accounts.urls")),
    path("", include("polls.urls")),
    path("", include("rewards.urls")),
    path("", include("discussions.urls")),
    path("admin/", admin.site.urls),
    path(f"{settings.MEDIA_URL.lstrip('/')}<path:path>", views.media_file, name="media_file"),
]
