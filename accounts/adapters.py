from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from accounts.invites import INVITER_SESSION_KEY


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up remembers the language the resident signed up in (emails use it later) and
    who invited them (from the invitation link they followed)."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        language = translation.get_language() or settings.LANGUAGE_CODE
        if language in dict(settings.LANGUAGES):
            user.language = language
        user.invited_by_id = request.session.pop(INVITER_SESSION_KEY, None)
        if commit:
            user.save()
        return user

    def get_phone(self, user):
        """Civic keeps no phone numbers (sign-in is by email): allauth's headless API asks
        anyway, and without this answers 500."""
        return None
