from django.http import HttpRequest

from accounts.models import Notification


def unread_notifications(request: HttpRequest) -> dict:
    """The header's unread badge: one COUNT per page, only for signed-in residents."""
    if not request.user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            user_id=request.user.pk, read_at__isnull=True
        ).count
    }
