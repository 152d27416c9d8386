"""The API's authentication with the staff two-factor rule (accounts/mfa.py): a staff account
without an authenticator is refused by every endpoint (403 ``mfa_required``).

A module of its own, importing no DRF views: DRF imports it while loading them."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import SessionAuthentication as DrfSessionAuthentication
from rest_framework.exceptions import PermissionDenied

from accounts.mfa import API_MFA_REQUIRED_MESSAGE, mfa_setup_required
from civic.api_auth import SessionTokenAuthentication as AppTokenAuthentication


class StaffMfaCheck:
    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None and mfa_setup_required(found[0]):
            raise PermissionDenied(detail=str(API_MFA_REQUIRED_MESSAGE), code="mfa_required")
        return found


class SessionTokenAuthentication(StaffMfaCheck, AppTokenAuthentication):
    """Apps' ``X-Session-Token``."""


class SessionAuthentication(StaffMfaCheck, DrfSessionAuthentication):
    """The browser's session cookie."""


class SessionScheme(OpenApiAuthenticationExtension):
    """The session cookie in the OpenAPI schema (drf-spectacular names only its own class)."""

    target_class = "accounts.api_auth.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
