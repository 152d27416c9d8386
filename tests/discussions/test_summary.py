"""The summary of an ended discussion: what it counts, that it is published once by the
scheduled task, and the staff's CSV of it."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.groups import CITY_STAFF
from accounts.models import Notification
from discussions import tasks
from discussions.models import Summary, TopProposal
from discussions.services import (
    SUMMARY_GRACE,
    discussion_summary_publish,
    post_hide,
    proposal_answer,
)
from tests.accounts.factories import UserFactory
from tests.discussions.factories import (
    DiscussionFactory,
    PostFactory,
    ProposalFactory,
    ReplyFactory,
    SupportFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended():
    """A discussion that ended an hour ago: two comments (one hidden), a reply, three
    visible proposals supported 3, 1 and 0 times, a hidden proposal with 2 supports, and an
    official answer to the second proposal."""
    discussion = DiscussionFactory(
        title="Набережная",
        opens_at=timezone.now() - timedelta(days=30),
        closes_at=timezone.now() - timedelta(hours=1),
    )
    comment = PostFactory(discussion=discussion)
    PostFactory(discussion=discussion, hidden_at=timezone.now(), hidden_reason="Брань")
    reply = ReplyFactory(parent=comment)
    first = ProposalFactory(discussion=discussion, text="=Велодорожка вдоль реки")
    second = ProposalFactory(discussion=discussion, text="Больше деревьев")
    third = ProposalFactory(discussion=discussion)
    hidden = ProposalFactory(discussion=discussion, hidden_at=timezone.now(), hidden_reason="Спам")
    supporters = UserFactory.create_batch(3)
    for user in supporters:
        SupportFactory(post=first, user=user)
    SupportFactory(post=second, user=supporters[0])
    SupportFactory.create_batch(2, post=hidden)
    proposal_answer(post=second, text="Высадим 40 лип.", by=UserFactory(is_staff=True))
    participants = {comment.author_id, reply.author_id, first.author_id, second.author_id}
    participants |= {third.author_id, *(user.pk for user in supporters)}
    return discussion, (first, second, third), participants


def summary_rows(summary: Summary) -> tuple:
    return (
        summary.participants,
        summary.comments,
        summary.replies,
        summary.proposals,
        summary.supports,
        list(TopProposal.objects.filter(summary=summary).values_list("rank", "post", "supports")),
    )


def test_the_summary_counts_what_stands_and_ranks_the_most_supported(ended):
    discussion, (first, second, _third), participants = ended
    assert discussion_summary_publish(discussion_id=discussion.pk) is True
    summary = Summary.objects.get(discussion=discussion)
    assert summary_rows(summary) == (
        len(participants),
        1,  # the hidden comment does not count
        1,
        3,  # nor the hidden proposal
        4,  # nor its supports
        [(1, first.pk, 3), (2, second.pk, 1)],  # unsupported proposals are not "most supported"
    )
    notified = set(
        Notification.objects.filter(kind="discussion_summary").values_list("user_id", flat=True)
    )
    assert notified == participants


def test_publishing_twice_gives_the_same_summary_and_notifies_once(ended):
    """The beat task is idempotent: a second run (or a retried one) changes nothing, and a
    moderator hiding a proposal afterwards does not rewrite the published numbers."""
    discussion, (first, _second, _third), participants = ended
    assert tasks.publish_summaries() == [discussion.pk]
    before = summary_rows(Summary.objects.get())
    assert tasks.publish_summaries() == []
    assert discussion_summary_publish(discussion_id=discussion.pk) is False
    post_hide(post=first, reason="Реклама", by=UserFactory(is_staff=True))
    assert summary_rows(Summary.objects.get()) == before
    assert Summary.objects.count() == 1
    assert Notification.objects.filter(kind="discussion_summary").count() == len(participants)


def test_nothing_is_published_before_the_end_and_its_grace():
    discussion = DiscussionFactory()
    assert tasks.publish_summaries() == []
    with time_machine.travel(discussion.closes_at + SUMMARY_GRACE - timedelta(seconds=1)):
        assert tasks.publish_summaries() == []
        assert discussion_summary_publish(discussion_id=discussion.pk) is False
    with time_machine.travel(discussion.closes_at + SUMMARY_GRACE):
        assert tasks.publish_summaries() == [discussion.pk]
    assert Summary.objects.get().participants == 0


def test_the_page_shows_the_summary_once_ended(client, ended):
    discussion, (first, second, _third), _participants = ended
    url = reverse("discussion_detail", args=[discussion.pk])
    client.force_login(UserFactory(language="en"))
    waiting = client.get(url).content.decode()
    assert "its summary will be published within a few minutes" in waiting
    discussion_summary_publish(discussion_id=discussion.pk)
    page = client.get(url).content.decode()
    assert "Most supported proposals" in page and "Велодорожка вдоль реки" in page
    assert "Высадим 40 лип." in page  # the official answer
    assert "Download the summary (CSV)" not in page  # residents do not export


@pytest.fixture
def analyst(city_groups):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=CITY_STAFF))
    return user


def test_staff_download_the_summary_as_csv(client, ended, analyst):
    discussion, (first, second, _third), participants = ended
    url = reverse("discussion_summary_csv", args=[discussion.pk])
    client.force_login(analyst)
    assert client.get(url).status_code == 404  # not published yet
    discussion_summary_publish(discussion_id=discussion.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="discussion-{discussion.pk}-summary-'
    )
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "discussion",
        "item",
        "rank",
        "count",
        "text",
        "official_answer",
        "answered_at",
    ]
    numbers = {row[1]: row[3] for row in rows[1:6]}
    assert numbers == {
        "participants": str(len(participants)),
        "comments": "1",
        "replies": "1",
        "proposals": "3",
        "supports": "4",
    }
    top = rows[6:]
    assert [(row[1], row[2], row[3]) for row in top] == [
        ("top_proposal", "1", "3"),
        ("top_proposal", "2", "1"),
    ]
    assert top[0][4] == "'=Велодорожка вдоль реки"  # a formula is defused
    assert top[1][4:6] == ["Больше деревьев", "Высадим 40 лип."]
    semicolon = client.get(url, {"sep": "semicolon"})
    assert b";" in b"".join(semicolon.streaming_content)
    assert client.get(url, {"sep": "tab"}).status_code == 404


def test_a_proposal_hidden_after_the_summary_loses_its_answer_too(client, ended, analyst):
    """The page and the CSV show neither the text nor the official answer of a top proposal
    a moderator hid once the summary was published."""
    discussion, (_first, second, _third), _participants = ended
    discussion_summary_publish(discussion_id=discussion.pk)
    post_hide(post=second, reason="Спам", by=UserFactory(is_staff=True))
    client.force_login(analyst)
    page = client.get(reverse("discussion_detail", args=[discussion.pk])).content.decode()
    assert "Высадим 40 лип." not in page
    response = client.get(reverse("discussion_summary_csv", args=[discussion.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[4:] for row in rows if row[1] == "top_proposal"][1] == ["", "", ""]


def test_residents_may_not_download_the_summary(client, ended):
    discussion, *_ = ended
    discussion_summary_publish(discussion_id=discussion.pk)
    url = reverse("discussion_summary_csv", args=[discussion.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
