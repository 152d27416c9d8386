"""Writes to public discussions: posting, replying, supporting and reporting (residents),
hiding and answering (city staff), publishing the summary (the schedule), and erasing a
resident's part (account deletion)."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import NotificationKind, User
from accounts.notifications import notifications_create
from accounts.rules import suspension_check
from discussions.models import (
    POST_MAX_LENGTH,
    Discussion,
    Post,
    PostKind,
    Report,
    ReportReason,
    Summary,
    Support,
    TopProposal,
)
from discussions.moderation import blocked_word_in
from discussions.rules import post_refusal, refusal_status
from discussions.selectors import summary_participants
from polls.models import Phase

# The summary waits this long after closing, so a post accepted just before closes_at has
# committed before it is counted (a post's transaction lasts milliseconds).
SUMMARY_GRACE = timedelta(seconds=30)
TOP_PROPOSALS = 10


class DiscussionError(Exception):
    """A step the rules refuse: a stable ``code`` (API), an HTTP ``status`` and a message."""

    def __init__(self, message: str, *, code: str = "invalid"):
        self.code = code
        self.status = refusal_status(code)
        super().__init__(message)


def _may_take_part(*, user: User, discussion: Discussion, now: datetime) -> None:
    """Refuse a suspended account (``AccountSuspended``) or anyone the rules keep out."""
    suspension_check(user=user)
    refusal = post_refusal(user=user, discussion=discussion, now=now)
    if refusal is not None:
        raise DiscussionError(refusal.message, code=refusal.code)


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise DiscussionError(_("Write something first: the text is empty."))
    if len(text) > POST_MAX_LENGTH:
        raise DiscussionError(
            ngettext(
                "The text is too long: at most %(limit)d character, this one has %(length)d.",
                "The text is too long: at most %(limit)d characters, this one has %(length)d.",
                POST_MAX_LENGTH,
            )
            % {"limit": POST_MAX_LENGTH, "length": len(text)}
        )
    word = blocked_word_in(text)
    if word is not None:
        raise DiscussionError(
            _(
                "Your text contains a word that is not allowed in public discussions: "
                "“%(word)s”. Please rephrase it."
            )
            % {"word": word},
            code="blocked_word",
        )
    return text


def post_create(*, user: User, discussion: Discussion, kind: str, text: str) -> Post:
    """A resident's comment or proposal. ``user`` with its home district loaded
    (``visitor_with_home``); ``discussion`` with its okrugs and districts prefetched."""
    if kind not in PostKind.values:
        raise DiscussionError(_("Choose whether this is a comment or a proposal."))
    now = timezone.now()
    _may_take_part(user=user, discussion=discussion, now=now)
    text = _clean_text(text)
    return Post.objects.create(
        discussion=discussion,
        kind=kind,
        author=user,
        author_district_id=user.home_building.district_id,
        text=text,
        created_at=now,
    )


def reply_create(*, user: User, to: Post, text: str) -> Post:
    """A reply to a top-level post. Replies go one level deep: a reply to a reply joins the
    same thread, under the top-level post (the resident replied to the conversation, and
    the thread stays readable on a phone). ``to.discussion`` with its areas prefetched."""
    now = timezone.now()
    discussion = to.discussion
    _may_take_part(user=user, discussion=discussion, now=now)
    parent = to if to.parent_id is None else Post.objects.get(pk=to.parent_id)
    if parent.hidden_at is not None:
        raise DiscussionError(
            _("A moderator hid this post: it cannot be replied to."), code="post_hidden"
        )
    text = _clean_text(text)
    return Post.objects.create(
        discussion=discussion,
        parent=parent,
        kind=PostKind.COMMENT,
        author=user,
        author_district_id=user.home_building.district_id,
        text=text,
        created_at=now,
    )


def proposal_support(*, user: User, post: Post) -> int:
    """Support a proposal, once (a unique constraint, not a check, decides: two clicks at
    once give one support and a clear refusal). Returns the proposal's supports now."""
    now = timezone.now()
    _may_take_part(user=user, discussion=post.discussion, now=now)
    if not post.is_proposal:  # a reply is a comment (post_reply_is_a_comment)
        raise DiscussionError(_("Only proposals can be supported."), code="not_a_proposal")
    if post.hidden_at is not None:
        raise DiscussionError(
            _("A moderator hid this proposal: it cannot be supported."), code="post_hidden"
        )
    if post.author_id == user.pk:
        raise DiscussionError(_("You cannot support your own proposal."), code="own_proposal")
    try:
        with transaction.atomic():
            Support.objects.create(post=post, user=user, created_at=now)
    except IntegrityError as error:
        raise DiscussionError(
            _("You have already supported this proposal."), code="already_supported"
        ) from error
    return Support.objects.filter(post=post).count()


def post_report(*, user: User, post: Post, reason: str) -> None:
    """A resident reports a post to the moderators; once each. Any signed-in resident may
    report what they read, wherever they live."""
    suspension_check(user=user)
    if reason not in ReportReason.values:
        raise DiscussionError(_("Choose what is wrong with this post."))
    if post.author_id == user.pk:
        raise DiscussionError(_("You cannot report your own post."), code="own_post")
    if post.hidden_at is not None:
        raise DiscussionError(_("A moderator has already hidden this post."), code="post_hidden")
    try:
        with transaction.atomic():
            Report.objects.create(post=post, user=user, reason=reason)
    except IntegrityError as error:
        raise DiscussionError(
            _("You have already reported this post."), code="already_reported"
        ) from error


# --- moderation and official answers (city staff, in the admin) -------------------------------


def post_hide(*, post: Post, reason: str, by: User) -> None:
    """Hide a post from everyone but its author, who sees the reason (on the page and in a
    notification). Hiding again with another reason tells the author the new one."""
    reason = reason.strip()
    if not reason:
        raise DiscussionError(_("Give the reason for hiding the post: its author will read it."))
    now = timezone.now()
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(hidden_at=now, hidden_reason=reason, hidden_by=by)
        if post.author_id:
            notifications_create(
                user_ids=[post.author_id],
                kind=NotificationKind.DISCUSSION_POST_HIDDEN,
                key=f"discussion-post:{post.pk}:hidden:{now:%Y%m%d%H%M%S}",
                params={"discussion": post.discussion.title, "reason": reason},
                url=_post_url(post),
            )
    post.hidden_at, post.hidden_reason, post.hidden_by = now, reason, by


def post_unhide(*, post: Post) -> None:
    Post.objects.filter(pk=post.pk).update(hidden_at=None, hidden_reason="", hidden_by=None)
    post.hidden_at, post.hidden_reason, post.hidden_by = None, "", None


def proposal_answer(*, post: Post, text: str, by: User) -> None:
    """Attach (or correct, or with an empty text withdraw) the city's official answer to a
    proposal. Its author is notified of the first answer, once."""
    if not post.is_proposal:  # a reply is a comment (post_reply_is_a_comment)
        raise DiscussionError(
            _("Official answers are given to proposals only."), code="not_a_proposal"
        )
    text = text.strip()
    now = timezone.now()
    with transaction.atomic():
        if not text:
            Post.objects.filter(pk=post.pk).update(answer="", answered_at=None, answered_by=None)
            post.answer, post.answered_at, post.answered_by = "", None, None
            return
        Post.objects.filter(pk=post.pk).update(answer=text, answered_at=now, answered_by=by)
        if post.author_id:
            notifications_create(
                user_ids=[post.author_id],
                kind=NotificationKind.DISCUSSION_ANSWER,
                key=f"discussion-post:{post.pk}:answer",
                params={"discussion": post.discussion.title},
                url=_post_url(post),
            )
    post.answer, post.answered_at, post.answered_by = text, now, by


def _post_url(post: Post) -> str:
    return reverse("discussion_detail", args=[post.discussion_id]) + f"#post-{post.pk}"


# --- the summary, published once after the period ends -----------------------------------------


def discussions_due_for_summary(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Discussion.objects.filter(
            closes_at__lte=now - SUMMARY_GRACE, summary__isnull=True
        ).values_list("pk", flat=True)
    )


def discussion_summary_publish(*, discussion_id: int, now: datetime | None = None) -> bool:
    """Count what the discussion came to and publish it, with its most supported proposals,
    and tell everyone who took part. Returns whether this call published it.

    Idempotent: the discussion row is locked and a summary, once there, is never
    recomputed (one per discussion, a unique constraint), so two workers or a retried task
    publish it once, with the same numbers. Hidden posts, and supports of hidden proposals,
    do not count.
    """
    now = now or timezone.now()
    with transaction.atomic():
        discussion = Discussion.objects.select_for_update().get(pk=discussion_id)
        if discussion.phase(now - SUMMARY_GRACE) != Phase.CLOSED:
            return False
        if Summary.objects.filter(discussion=discussion).exists():
            return False
        visible = Post.objects.filter(discussion=discussion, hidden_at__isnull=True)
        counts = visible.aggregate(
            comments=Count("pk", filter=Q(parent__isnull=True, kind=PostKind.COMMENT)),
            replies=Count("pk", filter=Q(parent__isnull=False)),
            proposals=Count("pk", filter=Q(kind=PostKind.PROPOSAL)),
        )
        participants = summary_participants(discussion=discussion)
        summary = Summary.objects.create(
            discussion=discussion,
            participants=len(participants),
            supports=Support.objects.filter(post__in=visible).count(),
            published_at=now,
            **counts,
        )
        top = (
            visible.filter(kind=PostKind.PROPOSAL)
            .annotate(support_count=Count("supports"))
            .filter(support_count__gt=0)
            .order_by("-support_count", "created_at", "pk")[:TOP_PROPOSALS]
        )
        TopProposal.objects.bulk_create(
            TopProposal(summary=summary, rank=rank, post=post, supports=post.support_count)
            for rank, post in enumerate(top, start=1)
        )
        notifications_create(
            user_ids=participants,
            kind=NotificationKind.DISCUSSION_SUMMARY,
            key=f"discussion:{discussion.pk}:summary",
            params={"discussion": discussion.title},
            url=reverse("discussion_detail", args=[discussion.pk]) + "#summary",
        )
    return True


# --- personal data ---------------------------------------------------------------------------


def personal_data_erase(*, user: User) -> None:
    """Erase the resident's part in discussions, inside the caller's transaction.

    Their posts lose both the text and the link to them: the text is their own words and
    often says who they are (an address, a family, a neighbour's name), so keeping it under
    "a deleted resident" would keep personal data the resident asked us to delete. The row
    stays, marked erased, so the threads others replied in, the official answer given to a
    proposal and a published summary keep their place and numbers. Supports and reports
    are kept without the resident: a proposal keeps the support it had, a moderator the
    report they act on, and neither says anything about the resident without the link.
    """
    Post.objects.filter(author=user).update(text="", author=None, erased_at=timezone.now())
    Support.objects.filter(user=user).update(user=None)
    Report.objects.filter(user=user).update(user=None)
