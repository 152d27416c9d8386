from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from novelties.models import Rating
from tests.accounts.factories import UserFactory
from tests.novelties.factories import NoveltyFactory, NoveltyPhotoFactory, RatingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(client):
    user = UserFactory()
    client.force_login(user)
    return user


def detail_url(novelty) -> str:
    return reverse("novelty_detail", args=[novelty.pk])


def novelties_with_ratings(count: int, *, home) -> None:
    for index in range(count):
        novelty = NoveltyFactory(
            okrug=home.district.okrug if index % 2 else None,
            district=home.district if index % 2 else None,
        )
        NoveltyPhotoFactory.create_batch(2, novelty=novelty)
        RatingFactory.create_batch(2, novelty=novelty, stars=index % 5 + 1)


@pytest.mark.parametrize("count", [2, 14])
def test_the_list_costs_the_same_queries_for_any_number_of_novelties(
    client, resident, count, django_assert_max_num_queries
):
    novelties_with_ratings(count, home=resident.home_building)
    RatingFactory(novelty=NoveltyFactory(), user=resident, stars=5)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("novelties"))
    assert response.status_code == 200
    assert len(response.context["listing"].cards) == count + 1


def test_the_list_puts_my_district_first_with_averages_and_my_rating(client, resident):
    home = resident.home_building
    here = NoveltyFactory(title="Сквер у дома", okrug=home.district.okrug, district=home.district)
    NoveltyFactory(title="Новая станция метро", happened_on=timezone.localdate() + timedelta(1))
    RatingFactory(novelty=here, user=resident, stars=4)
    RatingFactory(novelty=here, stars=2)
    page = client.get(reverse("novelties")).content.decode()
    assert page.index("Сквер у дома") < page.index("Новая станция метро")
    assert "3,0 из 5" in page  # the average, in Russian
    assert "Ваша оценка: 4 звезды" in page


def test_anonymous_visitors_see_the_city_list_and_are_asked_to_sign_in(client):
    NoveltyFactory(title="Новая библиотека")
    page = client.get(reverse("novelties")).content.decode()
    assert "Новая библиотека" in page and reverse("account_login") in page


def test_a_resident_rates_and_changes_a_rating_on_the_page(client, resident):
    """The form is radio buttons (1-5) and a comment; a rating redirects back with a
    message naming the points; a change keeps the same row and says so."""
    novelty = NoveltyFactory()
    NoveltyPhotoFactory(novelty=novelty, alt_text="Фонтан в новом сквере")
    page = client.get(detail_url(novelty)).content.decode()
    assert page.count('type="radio" name="stars"') == 5
    assert 'alt="Фонтан в новом сквере"' in page

    response = client.post(detail_url(novelty), {"stars": "5", "comment": "Красиво"}, follow=True)
    assert response.redirect_chain == [(detail_url(novelty), 302)]
    body = response.content.decode()
    assert "Спасибо! Ваша оценка сохранена. Вы получили 3 балла." in body
    assert "Красиво" in body

    response = client.post(detail_url(novelty), {"stars": "3", "comment": ""}, follow=True)
    assert "Ваша оценка изменена." in response.content.decode()
    rating = Rating.objects.get()
    assert (rating.user, rating.stars, rating.comment) == (resident, 3, "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"comment": "без звёзд"}, "Выберите от 1 до 5 звёзд."),
        ({"stars": "7"}, "Выберите от 1 до 5 звёзд."),
        ({"stars": "4", "comment": "ы" * 501}, "500"),
    ],
)
def test_bad_input_is_shown_with_a_400(client, resident, data, message):
    response = client.post(detail_url(NoveltyFactory()), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Rating.objects.exists()


def test_refusals_are_explained_with_their_status(client):
    """A resident without an address is told to complete the profile (403), a closed novelty
    says when it closed (409), anonymous posts go to the sign-in page, drafts are 404."""
    homeless = UserFactory(home_building=None)
    client.force_login(homeless)
    novelty = NoveltyFactory()
    page = client.get(detail_url(novelty)).content.decode()
    assert "Заполните профиль" in page and 'type="radio"' not in page
    assert client.post(detail_url(novelty), {"stars": "4"}).status_code == 403

    client.force_login(UserFactory())
    closed = NoveltyFactory(rating_closes_at=timezone.now() - timedelta(hours=1))
    response = client.post(detail_url(closed), {"stars": "4"})
    assert (
        response.status_code == 409 and "Оценка этой новинки закрыта" in response.content.decode()
    )
    assert client.get(detail_url(NoveltyFactory(published_at=None))).status_code == 404

    client.logout()
    response = client.post(detail_url(novelty), {"stars": "4"})
    assert response.status_code == 302 and reverse("account_login") in response.url
    assert not Rating.objects.exists()


def test_the_daily_limit_is_a_429_with_the_reason(client, resident, settings):
    settings.NOVELTY_RATINGS_PER_DAY = 1
    first, second = NoveltyFactory(), NoveltyFactory()
    assert client.post(detail_url(first), {"stars": "4"}).status_code == 302
    response = client.post(detail_url(second), {"stars": "4"})
    assert response.status_code == 429
    assert "дневной предел" in response.content.decode()


def test_the_rating_request_rate_is_limited_on_the_page(client, resident, settings):
    """The "rating" scope of civic.ratelimits: over the rate, the 429 page says when to retry."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "rating": "2/h"}
    novelty = NoveltyFactory()
    for stars in ("4", "5"):
        assert client.post(detail_url(novelty), {"stars": stars}).status_code == 302
    response = client.post(detail_url(novelty), {"stars": "1"})
    assert response.status_code == 429 and response["Retry-After"]
    assert Rating.objects.get().stars == 5


def test_staff_who_may_change_novelties_preview_drafts(admin_client):
    draft = NoveltyFactory(published_at=None, title="Черновик новинки")
    response = admin_client.get(detail_url(draft))
    assert response.status_code == 200 and "Черновик новинки" in response.content.decode()


def test_the_detail_page_costs_the_same_queries_with_many_comments(
    client, resident, django_assert_max_num_queries
):
    novelty = NoveltyFactory()
    NoveltyPhotoFactory.create_batch(3, novelty=novelty)
    for index in range(60):
        RatingFactory(novelty=novelty, stars=index % 5 + 1, comment=f"Комментарий {index}")
    with django_assert_max_num_queries(12):
        response = client.get(detail_url(novelty))
    assert len(response.context["page"].comments) == 50
    assert response.context["page"].comment_count == 60


def test_the_ranking_page_filters_and_refuses_a_bad_month(client, django_assert_max_num_queries):
    novelty = NoveltyFactory(title="Лучший сквер")
    RatingFactory.create_batch(3, novelty=novelty, stars=5)
    for _index in range(8):
        RatingFactory.create_batch(3, novelty=NoveltyFactory(), stars=2)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("novelty_ranking"))
    assert response.context["ranking"].best[0].novelty == novelty
    month = timezone.localdate().strftime("%Y-%m")
    response = client.get(reverse("novelty_ranking"), {"month": month, "category": "health"})
    assert response.status_code == 200 and response.context["ranking"].best == []
    response = client.get(reverse("novelty_ranking"), {"month": "2026-13"})
    assert response.status_code == 400
    assert "ГГГГ-ММ" in response.content.decode()


def test_the_ranking_page_links_no_month_it_would_refuse(client):
    last = client.get(reverse("novelty_ranking"), {"month": "2100-12"})
    assert last.context["next_query"] == "" and "month=2100-11" in last.context["previous_query"]
    first = client.get(reverse("novelty_ranking"), {"month": "2000-01"})
    assert first.context["previous_query"] == "" and "month=2000-02" in first.context["next_query"]


def test_the_ranking_page_refuses_a_month_of_a_far_off_year(client):
    for month in ("9999-12", "0001-01"):
        response = client.get(reverse("novelty_ranking"), {"month": month})
        assert response.status_code == 400, month
        assert response.context["form"].errors["month"] == ["Выберите месяц с 2000 по 2100 год."]
