"""What every API endpoint shares: pagination and one error format.

Errors are JSON with a stable machine ``code`` and a human ``detail``, e.g.
``{"code": "already_voted", "detail": "You have already voted in this poll."}``;
validation errors add ``errors`` naming the field or question.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from civic.ratelimits import RateLimited


class ApiError(APIException):
    """A refusal with its own status and code."""

    def __init__(self, *, status_code: int, code: str, detail: str, errors=None):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.errors = errors

    @classmethod
    def refusal(cls, error: Exception) -> "ApiError":
        """A domain error that carries its own ``status`` and ``code`` (the services' refusals),
        answered with its message."""
        return cls(status_code=error.status, code=error.code, detail=str(error))


class Pagination(PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RateLimited):
        # The pages' message and a Retry-After header: {"code": "throttled", "detail": ...}
        retry_after = exc.retry_after
        exc = exceptions.Throttled(detail=exc.message)
        exc.wait = retry_after  # not passed in: DRF would append its own English sentence
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        body = {"code": exc.code, "detail": str(exc.detail)}
        if exc.errors is not None:
            body["errors"] = exc.errors
    elif isinstance(exc, ValidationError):
        body = {
            "code": "invalid",
            "detail": gettext("The request is not valid."),
            "errors": response.data,
        }
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(getattr(exc, "detail", exc)),
        }
    response.data = body
    return response


class SessionTokenScheme(OpenApiAuthenticationExtension):
    """Describes the app clients' ``X-Session-Token`` header in the OpenAPI schema."""

    target_class = "civic.api_auth.SessionTokenAuthentication"
    match_subclasses = True  # accounts.api_auth adds the staff two-factor rule to it
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Session-Token"}
