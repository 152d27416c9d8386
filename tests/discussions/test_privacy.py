"""A resident's discussions in their data export, and gone with their account."""

import pytest
from django.urls import reverse

from accounts.privacy import account_delete, personal_data_export
from discussions.models import Post, Support
from tests.accounts.factories import UserFactory
from tests.discussions.factories import PostFactory, ProposalFactory, ReplyFactory

pytestmark = pytest.mark.django_db


def test_the_export_has_the_discussions_section_and_deletion_erases_it(client):
    user = UserFactory(language="en")
    proposal = ProposalFactory(author=user, text="Я живу в кв. 12, предлагаю шлагбаум")
    ReplyFactory(parent=proposal, text="Поддерживаю")
    Support.objects.create(post=ProposalFactory(discussion=proposal.discussion), user=user)
    exported = personal_data_export(user=user)["discussions"]
    assert exported["discussion_posts"][0]["text"] == "Я живу в кв. 12, предлагаю шлагбаум"
    assert len(exported["discussion_supports"]) == 1

    account_delete(user=user, password="correct horse battery")  # noqa: S106
    proposal.refresh_from_db()
    assert proposal.text == "" and proposal.author_id is None
    assert Support.objects.filter(user__isnull=True).count() == 1
    client.force_login(PostFactory(discussion=proposal.discussion).author)
    page = client.get(reverse("discussion_detail", args=[proposal.discussion_id])).content
    assert "шлагбаум" not in page.decode() and "Поддерживаю" in page.decode()
    assert Post.objects.filter(erased_at__isnull=False).count() == 1
