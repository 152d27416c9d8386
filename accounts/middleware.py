from django.conf import settings
from django.utils import translation


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
