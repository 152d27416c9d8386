"""Reads of public discussions shared by the pages, the API, the CSV export and the
services. Every list here costs the same number of queries whatever the number of posts."""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, When
from django.utils import timezone

from accounts.rules import Refusal
from discussions.models import Discussion, Post, PostKind, Report, Summary, Support, TopProposal
from discussions.rules import post_refusal
from polls.models import Phase

POSTS_PER_PAGE = 30


# --- lists ----------------------------------------------------------------------------------


def _phase_condition(phase: Phase, now: datetime) -> Q:
    return {
        Phase.UPCOMING: Q(opens_at__gt=now),
        Phase.OPEN: Q(opens_at__lte=now, closes_at__gt=now),
        Phase.CLOSED: Q(closes_at__lte=now),
    }[phase]


def discussions_listed(*, phase: Phase | None = None, now: datetime | None = None) -> QuerySet:
    """Every discussion, open ones first (closing soonest first), then upcoming (opening
    soonest first), then ended (latest first), with their areas and visible post counts:
    the same queryset for the list page and the API."""
    now = now or timezone.now()
    is_open, is_upcoming = _phase_condition(Phase.OPEN, now), _phase_condition(Phase.UPCOMING, now)
    discussions = (
        Discussion.objects.annotate(
            phase_rank=Case(When(is_open, then=0), When(is_upcoming, then=1), default=2),
            post_count=Count("posts", filter=Q(posts__hidden_at__isnull=True)),
            proposal_count=Count(
                "posts",
                filter=Q(posts__hidden_at__isnull=True, posts__kind=PostKind.PROPOSAL),
            ),
        )
        .prefetch_related("okrugs", "districts")
        .order_by(
            "phase_rank",
            Case(When(is_open, then=F("closes_at"))).asc(),
            Case(When(is_upcoming, then=F("opens_at"))).asc(),
            F("closes_at").desc(),
            "-pk",
        )
    )
    if phase is not None:
        discussions = discussions.filter(_phase_condition(phase, now))
    return discussions


@dataclass(frozen=True)
class DiscussionCard:
    """A discussion as a list shows it to one visitor: may they take part, and if not, why."""

    discussion: Discussion
    refusal: Refusal | None

    @property
    def can_post(self) -> bool:
        return self.refusal is None


def discussion_cards(*, user, discussions, now: datetime | None = None) -> list[DiscussionCard]:
    """``user`` from ``visitor_with_home``: no query for any number of cards."""
    now = now or timezone.now()
    return [
        DiscussionCard(
            discussion=discussion, refusal=post_refusal(user=user, discussion=discussion, now=now)
        )
        for discussion in discussions
    ]


# --- one discussion ---------------------------------------------------------------------------


def discussion_for_page(*, discussion_id: int) -> Discussion | None:
    """The discussion with its areas, documents and (once published) summary and its most
    supported proposals; None for unknown ids."""
    top = TopProposal.objects.select_related("post__author_district").order_by("rank")
    return (
        Discussion.objects.select_related("summary")
        .prefetch_related(
            "okrugs", "districts", "documents", Prefetch("summary__top", queryset=top)
        )
        .filter(pk=discussion_id)
        .first()
    )


def post_for_action(*, post_id: int) -> Post | None:
    """A post with its discussion and the discussion's areas, for reply, support, report."""
    return (
        Post.objects.select_related("discussion")
        .prefetch_related("discussion__okrugs", "discussion__districts")
        .filter(pk=post_id)
        .first()
    )


def post_as_seen(post: Post, user) -> Post:
    """What this visitor may see of ``post``: a hidden post's text is for its author only
    (with the reason); everyone else sees that a moderator hid it."""
    post.mine = user.is_authenticated and post.author_id == user.pk
    post.text_shown = post.text if post.hidden_at is None or post.mine else None
    return post


def _mine(model, user) -> Exists | Q:
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Exists(model.objects.filter(post=OuterRef("pk"), user_id=user.pk))


def discussion_posts(*, discussion: Discussion, user, page_number=1) -> Page:
    """A page of the discussion's threads, newest first: each top-level post with its
    supports (``support_count``), whether ``user`` supported (``supported``) or reported
    (``reported``) it, and its replies, oldest first. Three queries for any page."""
    replies = (
        Post.objects.select_related("author_district")
        .annotate(reported=_mine(Report, user))
        .order_by("created_at", "pk")
    )
    threads = (
        Post.objects.filter(discussion=discussion, parent__isnull=True)
        .select_related("author_district")
        .annotate(
            support_count=Count("supports"),
            supported=_mine(Support, user),
            reported=_mine(Report, user),
        )
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(threads, POSTS_PER_PAGE).get_page(page_number)
    for post in page.object_list:
        post_as_seen(post, user)
        for reply in post.replies.all():
            post_as_seen(reply, user)
    return page


def official_answers(*, discussion: Discussion) -> list[Post]:
    """The proposals the city has answered, in the order of the answers."""
    return list(
        Post.objects.filter(discussion=discussion, hidden_at__isnull=True)
        .exclude(answer="")
        .select_related("author_district")
        .order_by("answered_at", "pk")
    )


@dataclass(frozen=True)
class DiscussionPage:
    discussion: Discussion
    posts: Page
    answers: list[Post]
    summary: Summary | None
    refusal: Refusal | None


def discussion_page(
    *, discussion: Discussion, user, page_number=1, now: datetime | None = None
) -> DiscussionPage:
    """Everything the discussion page and the API detail show, for one visitor (``user``
    from ``visitor_with_home``)."""
    return DiscussionPage(
        discussion=discussion,
        posts=discussion_posts(discussion=discussion, user=user, page_number=page_number),
        answers=official_answers(discussion=discussion),
        summary=getattr(discussion, "summary", None),
        refusal=post_refusal(user=user, discussion=discussion, now=now),
    )


def summary_participants(*, discussion: Discussion) -> list[int]:
    """The residents who took part: wrote a post that stands, or supported a proposal that
    stands (authors of erased posts are no longer known)."""
    visible = Post.objects.filter(discussion=discussion, hidden_at__isnull=True)
    authors = visible.filter(author__isnull=False).values_list("author_id", flat=True)
    supporters = Support.objects.filter(post__in=visible, user__isnull=False).values_list(
        "user_id", flat=True
    )
    return sorted(set(authors.union(supporters)))


# --- personal data ---------------------------------------------------------------------------


def personal_data(*, user) -> dict:
    """The resident's own posts, supports and reports, JSON-ready."""
    posts = Post.objects.filter(author=user).select_related("discussion").order_by("created_at")
    supports = (
        Support.objects.filter(user=user).select_related("post__discussion").order_by("created_at")
    )
    reports = Report.objects.filter(user=user).order_by("created_at")
    return {
        "discussion_posts": [
            {
                "id": post.pk,
                "discussion": post.discussion.title,
                "kind": post.kind,
                "reply_to": post.parent_id,
                "text": post.text,
                "posted_at": post.created_at.isoformat(),
                "hidden_reason": post.hidden_reason,
                "official_answer": post.answer,
            }
            for post in posts
        ],
        "discussion_supports": [
            {
                "proposal": support.post_id,
                "discussion": support.post.discussion.title,
                "supported_at": support.created_at.isoformat(),
            }
            for support in supports
        ],
        "discussion_reports": [
            {
                "post": report.post_id,
                "reason": report.reason,
                "reported_at": report.created_at.isoformat(),
            }
            for report in reports
        ],
    }
