"""Races on real connections: the database, not a check in Python, keeps one support per
resident and one summary per discussion."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from accounts.selectors import resident_with_home
from discussions.models import Summary, Support, TopProposal
from discussions.selectors import post_for_action
from discussions.services import DiscussionError, discussion_summary_publish, proposal_support
from tests.accounts.factories import UserFactory
from tests.discussions.factories import DiscussionFactory, ProposalFactory, SupportFactory

THREADS = 12


def run_at_once(work, count: int = THREADS) -> list:
    """Run ``work`` on ``count`` threads, each on its own connection, released together."""
    barrier = threading.Barrier(count)
    outcomes, lock = [], threading.Lock()

    def run():
        try:
            prepared = work.prepare()
            barrier.wait(timeout=60)
            outcome = work(prepared)
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


class SupportClicks:
    def __init__(self, user_id: int, post_id: int):
        self.user_id, self.post_id = user_id, post_id

    def prepare(self):
        return resident_with_home(user_id=self.user_id), post_for_action(post_id=self.post_id)

    def __call__(self, prepared) -> str:
        user, post = prepared
        try:
            proposal_support(user=user, post=post)
        except DiscussionError as error:
            return error.code
        return "supported"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_on_support_make_one_support():
    """One resident clicking "Support" 12 times at once, on 12 connections: one support,
    and every other click is told "already supported"."""
    proposal = ProposalFactory()
    user = UserFactory()
    outcomes = run_at_once(SupportClicks(user.pk, proposal.pk))
    assert sorted(outcomes) == ["already_supported"] * (THREADS - 1) + ["supported"]
    assert Support.objects.filter(post=proposal, user=user).count() == 1


class Publish:
    def __init__(self, discussion_id: int):
        self.discussion_id = discussion_id

    def prepare(self):
        return None

    def __call__(self, _prepared) -> bool:
        return discussion_summary_publish(discussion_id=self.discussion_id)


@pytest.mark.django_db(transaction=True)
def test_workers_publishing_the_same_summary_at_once_publish_it_once():
    discussion = DiscussionFactory(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(hours=1)
    )
    proposal = ProposalFactory(discussion=discussion)
    SupportFactory.create_batch(3, post=proposal)
    outcomes = run_at_once(Publish(discussion.pk), count=6)
    assert sorted(outcomes) == [False] * 5 + [True]
    summary = Summary.objects.get(discussion=discussion)
    assert (summary.proposals, summary.supports, summary.participants) == (1, 3, 4)
    assert list(TopProposal.objects.values_list("rank", "supports")) == [(1, 3)]
    assert Notification.objects.filter(kind="discussion_summary").count() == 4
