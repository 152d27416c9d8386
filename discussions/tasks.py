"""Celery tasks for public discussions: thin wrappers around one service each.

Beat runs ``publish_summaries`` every minute (the schedule is in the database, see
discussions/migrations/0002, editable in the admin under "Periodic tasks"). Running it
twice, or twice at once, publishes each summary once: see
``services.discussion_summary_publish``.
"""

import logging

from celery import shared_task

from discussions import services
from polls.tasks import DATABASE_RETRY

logger = logging.getLogger(__name__)


@shared_task(**DATABASE_RETRY)
def publish_summaries() -> list[int]:
    """Publish the summary of every discussion that has ended and has none yet."""
    published = [
        discussion_id
        for discussion_id in services.discussions_due_for_summary()
        if services.discussion_summary_publish(discussion_id=discussion_id)
    ]
    if published:
        logger.info("discussion summaries published", extra={"discussions": published})
    return published
