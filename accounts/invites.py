"""Invitation links: ``/invite/<token>/`` carries the inviter's id, signed so it cannot be
forged; following it remembers the inviter in the session until sign-up."""

from django.core import signing

from accounts.models import User

INVITER_SESSION_KEY = "invited_by"
SALT = "civic.invite"


def invite_token(*, user: User) -> str:
    return signing.dumps(user.pk, salt=SALT)


def inviter_id(*, token: str) -> int | None:
    """The inviter's id, or None for a forged or mangled token (or a deleted inviter)."""
    try:
        user_id = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return user_id if User.objects.filter(pk=user_id, is_active=True).exists() else None
