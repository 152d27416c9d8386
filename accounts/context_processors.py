from django.http import HttpRequest

from accounts.models import Notification
from rewards.models import Wallet


def header(request: HttpRequest) -> dict:
    """The header's unread badge and points balance: one query each per page, only for
    signed-in residents, and only if the template asks (they are callables)."""
    if not request.user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            user_id=request.user.pk, read_at__isnull=True
        ).count,
        "points_balance": lambda: (
            Wallet.objects.filter(user_id=request.user.pk).values_list("balance", flat=True).first()
            or 0
        ),
    }
