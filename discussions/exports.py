"""The summary of an ended discussion as CSV for city staff, in the format of the polls'
exports (polls/exports.py: BOM, RFC 4180 quoting, formulas defused, comma or semicolon).

One row per number of the summary, then one per most supported proposal (with its rank,
supports at closing and the official answer, if any), then one per other answered proposal.
No resident is named: the page shows the same.
"""

from collections.abc import Iterator

from django.utils import timezone

from discussions.models import Discussion, Post
from discussions.selectors import official_answers

COLUMNS = ["discussion", "item", "rank", "count", "text", "official_answer", "answered_at"]
NUMBERS = ["participants", "comments", "replies", "proposals", "supports"]


def _shown_text(post: Post) -> str:
    """What anyone may read of a proposal now: nothing once hidden or erased."""
    return post.text if post.hidden_at is None else ""


def _answered_at(post: Post) -> str:
    return timezone.localtime(post.answered_at).isoformat() if post.answer_shown else ""


def summary_rows(discussion: Discussion) -> Iterator[list]:
    """``discussion`` from ``selectors.discussion_for_page``, with a published summary."""
    summary = discussion.summary
    title = discussion.title
    yield COLUMNS
    for number in NUMBERS:
        yield [title, number, "", getattr(summary, number), "", "", ""]
    top = list(summary.top.all())
    for place in top:
        post = place.post
        text, answer = _shown_text(post), post.answer_shown
        yield [title, "top_proposal", place.rank, place.supports, text, answer, _answered_at(post)]
    in_top = {place.post_id for place in top}
    for post in official_answers(discussion=discussion):
        if post.pk not in in_top:
            row = [_shown_text(post), post.answer, _answered_at(post)]
            yield [title, "answered_proposal", "", "", *row]


def summary_file_name(discussion: Discussion) -> str:
    return f"discussion-{discussion.pk}-summary-{timezone.localdate().isoformat()}.csv"
