from functools import cache
from pathlib import Path

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.invites import INVITER_SESSION_KEY
from accounts.mfa import ACTIVE_TYPES, is_staff_account
from accounts.privacy import erased_email_blocked_until
from accounts.services import signup_record


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up remembers the language the resident signed up in (emails use it later), who
    invited them (from the invitation link they followed) and the address it came from
    (``SignupRecord``, for the suspicious-accounts report)."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        language = translation.get_language() or settings.LANGUAGE_CODE
        if language in dict(settings.LANGUAGES):
            user.language = language
        user.invited_by_id = request.session.pop(INVITER_SESSION_KEY, None)
        if commit:
            user.save()
            signup_record(user=user, ip=self.get_client_ip(request))
        return user

    def get_phone(self, user):
        """Civic keeps no phone numbers (sign-in is by email): allauth's headless API asks
        anyway, and without this answers 500."""
        return None

    def clean_email(self, email: str) -> str:
        """Refuse throwaway addresses (accounts/disposable_domains.txt), a farm's favourite."""
        email = super().clean_email(email)
        if is_disposable(email):
            raise forms.ValidationError(
                _("Addresses of disposable email services cannot be used: please use your own.")
            )
        blocked_until = erased_email_blocked_until(email)
        if blocked_until is not None:
            raise forms.ValidationError(
                _(
                    "An account with this address was deleted while a poll it voted in is "
                    "still open. The address can be used again after %(date)s, when the last "
                    "of those polls closes."
                )
                % {"date": date_format(timezone.localtime(blocked_until), "j E Y, H:i")}
            )
        return email


DISPOSABLE_DOMAINS_FILE = Path(__file__).resolve().parent / "disposable_domains.txt"


@cache
def disposable_domains() -> frozenset[str]:
    lines = DISPOSABLE_DOMAINS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def is_disposable(email: str) -> bool:
    """The address's domain, or any domain above it, is a disposable service."""
    labels = email.rpartition("@")[2].lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in disposable_domains() for i in range(len(labels) - 1))


class MfaAdapter(DefaultMFAAdapter):
    """City staff and admins keep at least one authenticator app or security key while
    two-factor authentication is required of them (accounts/mfa.py)."""

    def can_delete_authenticator(self, authenticator) -> bool:
        user = authenticator.user
        if not settings.STAFF_MFA_REQUIRED or not is_staff_account(user):
            return True
        others = user.authenticator_set.filter(type__in=ACTIVE_TYPES).exclude(pk=authenticator.pk)
        return authenticator.type not in ACTIVE_TYPES or others.exists()
