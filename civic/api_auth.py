"""API authentication, in a module of its own: DRF imports it while loading its views."""

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth headless's ``X-Session-Token`` (apps). Naming the header makes DRF answer
    401, not 403, to a request that is not signed in."""

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"
