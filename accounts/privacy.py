"""A resident's personal data: all of it as one JSON document, and deleting the account.

Every app that keeps a resident's own data provides, by contract:

- in its ``selectors.py``: ``personal_data(*, user) -> dict`` — the resident's own data and
  nothing of anyone else's, as JSON values (dates and times are written as ISO 8601);
- in its ``services.py``, if it has anything to erase: ``personal_data_erase(*, user) -> None``
  — erase or anonymise it inside the caller's transaction; never delete ballots or ledger
  entries (the account's row stays, anonymised, and they keep pointing at it).

``PERSONAL_DATA`` lists them; the export has one section per app, named by the app, in this
order, and deletion calls every eraser. The design, and what stays: docs/decisions/0010.
"""

import json
import logging
from datetime import datetime

from allauth.mfa.models import Authenticator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import ErasedEmail, User
from accounts.services import resident_lock
from civic.ratelimits import rate_limit, user_key
from polls.models import Poll

logger = logging.getLogger(__name__)

# (export, eraser or None), by dotted path.
PERSONAL_DATA: tuple[tuple[str, str | None], ...] = (
    ("accounts.selectors.personal_data", "accounts.services.personal_data_erase"),
    ("polls.selectors.personal_data", "polls.services.personal_data_erase"),
    # The ledger, wallet, redemptions and achievements stay with the anonymised account.
    ("rewards.selectors.personal_data", None),
    ("discussions.selectors.personal_data", "discussions.services.personal_data_erase"),
    # Ratings stay in the averages, anonymous; comments are erased.
    ("novelties.selectors.personal_data", "novelties.services.personal_data_erase"),
)

EXPORT_FORMAT = 1


def personal_data_export(*, user: User) -> dict:
    """Everything Civic keeps about the resident: one section per app."""
    data = {"format": EXPORT_FORMAT, "exported_at": timezone.now(), "account": user.pk}
    for export, _eraser in PERSONAL_DATA:
        data[export.split(".")[0]] = import_string(export)(user=user)
    return data


def personal_data_document(*, user: User) -> str:
    """The export as JSON text, as the page and the API give it."""
    return json.dumps(
        personal_data_export(user=user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
    )


# --- deleting the account ---------------------------------------------------------------------


class DeletionRefused(Exception):
    """The deletion was not confirmed: ``field`` names what was wrong, ``str()`` says what."""

    def __init__(self, message: str, *, field: str, code: str):
        self.field, self.code = field, code
        super().__init__(message)


def mfa_code_needed(*, user: User) -> bool:
    """A resident with two-factor authentication confirms with a code as well."""
    return Authenticator.objects.filter(user_id=user.pk).exists()


def account_delete(*, user: User, password: str, code: str = "") -> None:
    """Delete the resident's account, confirmed with their password (and a code from their
    authenticator app or a recovery code, if they use two-factor authentication).

    In one transaction every app erases its part (``PERSONAL_DATA``) and the account is
    anonymised; ballots, participations, the ledger and redemptions stay, pointing at the
    anonymised account. If the account took part in a poll that is still open, its address
    cannot sign up again until the last of those polls closes (``erased_email_blocked_until``).
    Tries are limited (``RATE_LIMITS["account_delete"]``).
    """
    rate_limit(scope="account_delete", key=user_key(user))
    if not user.check_password(password):
        raise DeletionRefused(
            _("The password is not correct."), field="password", code="wrong_password"
        )
    if mfa_code_needed(user=user):
        _check_mfa_code(user=user, code=code.strip())
    with transaction.atomic():
        account = resident_lock(user.pk)
        _block_addresses_while_polls_are_open(account)
        for _export, eraser in PERSONAL_DATA:
            if eraser is not None:
                import_string(eraser)(user=account)
    logger.info("account deleted", extra={"user_id": account.pk})


def _check_mfa_code(*, user: User, code: str) -> None:
    if not code:
        raise DeletionRefused(
            _("Enter a code from your authenticator app or one of your recovery codes."),
            field="code",
            code="code_required",
        )
    codes = Authenticator.objects.filter(user_id=user.pk).exclude(
        type=Authenticator.Type.WEBAUTHN  # security keys give no code to type
    )
    if not any(authenticator.wrap().validate_code(code) for authenticator in codes):
        raise DeletionRefused(
            _("This code is not correct. Enter the current code from your authenticator app."),
            field="code",
            code="wrong_code",
        )


def erased_email_digest(email: str) -> str:
    """A keyed hash of the address: it recognises the address again, never gives it back."""
    return salted_hmac(
        "civic.accounts.erased-email", email.strip().lower(), algorithm="sha256"
    ).hexdigest()


def _block_addresses_while_polls_are_open(account: User) -> None:
    """Re-registering with the same address must not vote twice in a poll still open."""
    now = timezone.now()
    last_close = Poll.objects.filter(participations__user=account, closes_at__gt=now).aggregate(
        last=Max("closes_at")
    )["last"]
    if last_close is None:
        return
    addresses = {account.email, *account.emailaddress_set.values_list("email", flat=True)}
    ErasedEmail.objects.bulk_create(
        ErasedEmail(digest=erased_email_digest(email), blocked_until=last_close)
        for email in addresses
    )


def erased_email_blocked_until(email: str) -> datetime | None:
    """Until when this address may not sign up (a deleted account voted with it in a poll
    still open), or None."""
    return ErasedEmail.objects.filter(
        digest=erased_email_digest(email), blocked_until__gt=timezone.now()
    ).aggregate(until=Max("blocked_until"))["until"]


def erased_emails_purge(*, now: datetime | None = None) -> int:
    """Forget the addresses whose polls have all closed; how many went."""
    deleted, _by_model = ErasedEmail.objects.filter(
        blocked_until__lte=now or timezone.now()
    ).delete()
    return deleted
