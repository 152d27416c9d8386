"""What each kind of notification says, in the resident's own language, on the site and
by email. Apps create notifications through ``accounts.services.notifications_create``."""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationKind


@dataclass(frozen=True)
class NotificationText:
    title: str
    body: str


def notification_text(notification: Notification) -> NotificationText:
    """The text in the currently active language."""
    params = notification.params
    if notification.kind == NotificationKind.RESULTS_PUBLISHED:
        return NotificationText(
            title=_("Results of “%(title)s” are published") % params,
            body=_("Thank you for voting in “%(title)s”. See what the city decided.") % params,
        )
    return NotificationText(title=notification.get_kind_display(), body="")


def notification_email(notification: Notification) -> EmailMessage:
    user = notification.user
    with translation.override(user.language):
        text = notification_text(notification)
        link = f"{settings.SITE_URL}{notification.url}" if notification.url else ""
        body = "\n\n".join(part for part in (text.body, link) if part)
        return EmailMessage(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{text.title}",
            body=body,
            to=[user.email],
        )
