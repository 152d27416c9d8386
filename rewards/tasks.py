"""Celery tasks of rewards: the monthly "mark of activity"."""

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from rewards.services import achievements_award_monthly_activity


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=8, acks_late=True)
def award_monthly_activity(year: int | None = None, month: int | None = None) -> int:
    """For the given month, by default the one that just ended (beat runs this on the 1st)."""
    if year is None or month is None:
        today = timezone.localdate()
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return achievements_award_monthly_activity(year=year, month=month)
