"""Notifications: creating them (once per resident and subject), what each kind says in
the resident's own language, and emailing them in batches. Any app notifies residents
through ``notifications_create``."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, NotificationKind, User


@dataclass(frozen=True)
class NotificationText:
    title: str
    body: str


# kind -> (title, body); each is formatted with the notification's params.
TEXTS = {
    NotificationKind.RESULTS_PUBLISHED: (
        _("Results of “%(title)s” are published"),
        _("Thank you for voting in “%(title)s”. See what the city decided."),
    ),
    NotificationKind.VOUCHER: (
        _("Your reward: %(title)s"),
        _("Your voucher code: %(voucher)s. Show it to collect the reward."),
    ),
    NotificationKind.RESIDENCY_VERIFIED: (
        _("Your address is verified"),
        _("You are a verified resident of %(address)s: you can take part in its surveys."),
    ),
    NotificationKind.RESIDENCY_REJECTED: (
        _("Your address claim was declined"),
        _("The city staff could not verify %(address)s. Reason: %(reason)s"),
    ),
    NotificationKind.SURVEY_CREATED: (
        _("New survey in your building: %(title)s"),
        _("A neighbour asks the residents of %(address)s. Voting closes on %(closes)s."),
    ),
    NotificationKind.SURVEY_HIDDEN: (
        _("Your survey “%(title)s” was hidden"),
        _("A city moderator hid it. Reason: %(reason)s"),
    ),
    NotificationKind.ACCOUNT_SUSPENDED: (
        _("Your account is suspended"),
        _(
            "The city suspended your account: it cannot vote, rate, comment or use points "
            "until the suspension is lifted. Reason: %(reason)s. If this is a mistake, "
            "write to the city's support."
        ),
    ),
    NotificationKind.ACCOUNT_REINSTATED: (
        _("Your account is reinstated"),
        _("The suspension of your account is lifted: you can vote and use points again."),
    ),
    NotificationKind.DECISION_RECORDED: (
        _("The city's decision after the poll “%(title)s”"),
        _(
            "Thank you for taking part. Decided: “%(decision)s” Responsible: %(body)s. "
            "Follow its progress on the results page."
        ),
    ),
    NotificationKind.DECISION_DONE: (
        _("Done: the decision after the poll “%(title)s”"),
        _("The decision taken after the poll is carried out: “%(decision)s”"),
    ),
    NotificationKind.DISCUSSION_ANSWER: (
        _("The city answered your proposal"),
        _("Your proposal in the discussion “%(discussion)s” has an official answer."),
    ),
    NotificationKind.DISCUSSION_POST_HIDDEN: (
        _("Your post in “%(discussion)s” was hidden"),
        _("A city moderator hid it. Reason: %(reason)s"),
    ),
    NotificationKind.DISCUSSION_SUMMARY: (
        _("The discussion “%(discussion)s” has ended"),
        _(
            "Thank you for taking part. See its summary: the numbers, the most "
            "supported proposals and the city's answers."
        ),
    ),
}


def notification_text(notification: Notification) -> NotificationText:
    """The text in the currently active language."""
    if notification.kind not in TEXTS:
        return NotificationText(title=notification.get_kind_display(), body="")
    title, body = TEXTS[notification.kind]
    params = notification.params
    if notification.kind == NotificationKind.SURVEY_CREATED:
        closes = date_format(timezone.localtime(parse_datetime(params["closes"])), "j E, H:i")
        params = params | {"closes": closes}
    return NotificationText(title=str(title) % params, body=str(body) % params)


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


EMAIL_BATCH_SIZE = 200


# Deleted accounts (docs/decisions/0010) are told nothing more.
NOTIFY_SQL = """
    INSERT INTO accounts_notification (user_id, kind, key, params, url, created_at)
    SELECT recipient, %s, %s, %s::jsonb, %s, now()
    FROM (RECIPIENTS) AS r(recipient)
    JOIN accounts_user u ON u.id = r.recipient AND u.erased_at IS NULL
    ON CONFLICT (user_id, key) DO NOTHING
"""


def notifications_create(
    *, user_ids: Iterable[int] | QuerySet, kind: str, key: str, params: dict, url: str
) -> None:
    """Notify these users, each at most once per ``key`` (a unique constraint; a retried or
    concurrent call adds nothing). ``user_ids`` may be a ``values_list`` queryset: the rows
    are then made by INSERT … SELECT in the database, so announcing to a million
    participants costs the worker no memory."""
    if isinstance(user_ids, QuerySet):
        recipients, recipient_params = user_ids.query.sql_with_params()
    else:
        recipients, recipient_params = "SELECT unnest(%s::bigint[])", (list(user_ids),)
    with connection.cursor() as cursor:
        cursor.execute(
            NOTIFY_SQL.replace("RECIPIENTS", recipients),
            [str(kind), key, json.dumps(params), url, *recipient_params],
        )


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def notifications_email_batch(*, batch_size: int = EMAIL_BATCH_SIZE) -> int:
    """Email one batch of notifications not emailed yet; return how many were handled
    (residents who turned email off are skipped, and their notifications marked handled).

    A batch is claimed (``emailed_at`` set, rows locked with SKIP LOCKED so parallel
    workers take different batches) and committed before sending, so a retried task never
    sends a notification twice. If the mail server refuses, the unsent part of the claim is
    released for the next run.
    """
    with transaction.atomic():
        claimed = list(
            Notification.objects.filter(emailed_at__isnull=True)
            .select_related("user")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("created_at", "pk")[:batch_size]
        )
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
            emailed_at=timezone.now()
        )
    sent = 0
    try:
        for notification in claimed:
            if notification.user.email_notifications:  # else it is only shown on the site
                notification_email(notification).send()
            sent += 1
    finally:
        unsent = [notification.pk for notification in claimed[sent:]]
        Notification.objects.filter(pk__in=unsent).update(emailed_at=None)
    return sent
