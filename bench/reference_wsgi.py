"""The load benchmark's reference: the same Django (settings, middleware, gunicorn) serving
a minimal view that inserts one row per request into PostgreSQL."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_reference (id bigserial PRIMARY KEY, at timestamptz)"


@csrf_exempt
def insert_one(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_reference (at) VALUES (now())")
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("insert/", insert_one)]
application = get_wsgi_application()
settings.ROOT_URLCONF = __name__
