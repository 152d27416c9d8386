import pytest
from django.urls import reverse

from accounts.models import Notification, NotificationKind
from accounts.notifications import notifications_create
from tests.accounts.factories import UserFactory


def notify(users, key="poll:1:results"):
    return notifications_create(
        user_ids=[user.pk for user in users],
        kind=NotificationKind.RESULTS_PUBLISHED,
        key=key,
        params={"poll_id": 1, "title": "Парки"},
        url="/polls/1/results/",
    )


@pytest.mark.django_db
def test_the_same_notification_is_created_once():
    users = UserFactory.create_batch(3)
    notify(users)
    notify(users)
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_badge_counts_unread_and_the_page_marks_them_read(client):
    resident = UserFactory(language="en")
    notify([resident])
    notify([resident], key="poll:2:results")
    client.force_login(resident)
    page = client.get(reverse("notifications"))
    assert 'class="badge"' in page.content.decode() and ">2</span>" in page.content.decode()
    assert "Results of “Парки” are published" in page.content.decode()
    client.post(reverse("notifications"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert 'class="badge"' not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_notifications_page_query_count_is_constant(client, django_assert_max_num_queries):
    resident = UserFactory()
    client.force_login(resident)
    for number in range(15):
        notify([resident], key=f"poll:{number}:results")
    with django_assert_max_num_queries(7):
        client.get(reverse("notifications"))


@pytest.mark.django_db
def test_notifications_need_a_login(client):
    assert client.get(reverse("notifications")).status_code == 302
