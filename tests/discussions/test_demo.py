"""The demo city's public discussions."""

import pytest

from civic.demo import demo_city_load, demo_residents_load, demo_staff_ensure
from discussions.demo import demo_discussions_load
from discussions.models import Discussion, Post, Support
from polls.models import Phase


@pytest.mark.django_db
def test_the_demo_has_an_open_discussion_with_documents_and_an_ended_one_with_its_summary(
    city_groups,
):
    """The open discussion has a PDF and an image, comments, proposals with supports,
    replies and an official answer, and takes posts from the central okrug's residents; the
    ended one has its summary. Loading again creates nothing."""
    demo_city_load()
    demo_residents_load()
    demo_staff_ensure()
    assert demo_discussions_load() == 2

    open_one = Discussion.objects.get(okrugs__name="Центральный административный округ")
    assert open_one.phase() == Phase.OPEN and not hasattr(open_one, "summary")
    documents = list(open_one.documents.all())
    assert [document.is_pdf for document in documents] == [True, False]
    assert documents[0].file.open("rb").read(5) == b"%PDF-"
    assert documents[1].file.name.endswith(".png")
    posts = Post.objects.filter(discussion=open_one)
    assert posts.filter(kind="proposal").count() == 3
    assert posts.filter(parent__isnull=False).count() == 3
    assert posts.exclude(answer="").count() == 1
    assert Support.objects.filter(post__discussion=open_one).count() == 18
    assert {post.author_district.okrug.name for post in posts} == {
        "Центральный административный округ"
    }

    ended = Discussion.objects.exclude(pk=open_one.pk).get()
    assert ended.phase() == Phase.CLOSED
    summary = ended.summary
    assert (summary.proposals, summary.supports, summary.replies) == (2, 11, 1)
    assert [place.supports for place in summary.top.all()] == [7, 4]

    assert demo_discussions_load() == 0
    assert Discussion.objects.count() == 2
