import logging
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.views import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civic.celery import app as celery_app
from civic.uploads import MEDIA_CONTENT_TYPES

logger = logging.getLogger(__name__)


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("healthz: database unavailable", extra={"error": str(error)})
        return "down"
    return "up"


def _broker_state() -> str:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the reason is logged
        logger.warning("healthz: broker unavailable", extra={"error": str(error)})
        return "down"
    return "up"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 200 while the database answers (the broker is reported)."""
    database = _database_state()
    broker = _broker_state()
    return JsonResponse(
        {"status": "ok" if database == "up" else "error", "database": database, "broker": broker},
        status=200 if database == "up" else 503,
    )


@require_GET
def media_file(request: HttpRequest, path: str) -> FileResponse:
    """An uploaded file, with the content type of its (our own) extension; PDFs download.

    Only the extensions civic/uploads.py writes are served, so nothing uploaded can be
    sniffed into HTML or script; `nosniff` comes from SecurityMiddleware.
    """
    content_type = MEDIA_CONTENT_TYPES.get(path.rpartition(".")[2].lower())
    if content_type is None:
        raise Http404(path)
    response = static.serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Content-Type"] = content_type
    disposition = "attachment" if content_type == "application/pdf" else "inline"
    response["Content-Disposition"] = f"{disposition}; filename={Path(path).name}"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
