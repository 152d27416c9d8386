"""API authentication, in a module of its own: DRF imports it while loading its views."""

from allauth.headless import app_settings
from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication

from accounts.tokens import session_resident


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth headless's ``X-Session-Token`` (apps). The resident comes with their home
    and what requests ask of them, in one statement after the session's
    (``accounts.tokens.session_resident``), so views need not read them again. Naming the
    header makes DRF answer 401, not 403, to a request that is not signed in."""

    def authenticate(self, request):
        token = self.get_session_token(request)
        session = app_settings.TOKEN_STRATEGY.lookup_session(token) if token else None
        user = session_resident(session) if session else None
        return (user, session) if user else None

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"
