from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import translation
from rest_framework.views import APIView

from accounts.mfa import MFA_REQUIRED_MESSAGE, mfa_setup_required


class PreferredLanguageMiddleware:
    """A signed-in resident sees the site in their profile's language, unless they have
    just picked another one with the language switcher (which sets the language cookie)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


# Open to a staff account without an authenticator, besides allauth's MFA pages (url names
# "mfa_..."): logging out, confirming the password before adding an authenticator, and
# switching the language of those pages.
MFA_SETUP_URL_NAMES = frozenset({"account_logout", "account_reauthenticate", "set_language"})


class StaffMfaMiddleware:
    """Sends a staff account without an authenticator to set one up, with a message
    (accounts/mfa.py). allauth's own API (/_allauth/, where apps set up authenticators)
    stays open; DRF views are left to accounts.api_auth, which also sees app tokens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not mfa_setup_required(request.user):
            return None
        match = request.resolver_match
        name = match.url_name or ""
        if name.startswith("mfa_") or name in MFA_SETUP_URL_NAMES or "headless" in match.namespaces:
            return None
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        messages.warning(request, MFA_REQUIRED_MESSAGE)
        return redirect("mfa_index")
