import pytest

from novelties.models import Rating
from rewards.models import LedgerEntry
from tests.accounts.factories import UserFactory
from tests.browser.journey import check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.novelties.factories import NoveltyFactory, NoveltyPhotoFactory, RatingFactory


@pytest.mark.django_db(transaction=True)
def test_resident_rates_a_novelty_by_keyboard_and_finds_it_in_the_ranking(live_server, new_page):
    """In Russian: the novelty near home comes first in the list; on its page the resident
    picks four stars with the arrow keys (radio buttons), writes a comment and saves; the
    page thanks them with the points, shows their rating and comment; the month's ranking
    then lists the novelty (it now has the three ratings a ranking needs)."""
    resident = UserFactory()
    home = resident.home_building.district
    NoveltyFactory(title="Новая станция метро")
    novelty = NoveltyFactory(
        title="Сквер у Бауманской улицы", okrug=home.okrug, district=home, building=None
    )
    NoveltyPhotoFactory(novelty=novelty, alt_text="Липы и скамейки в новом сквере")
    RatingFactory(novelty=novelty, stars=5)
    RatingFactory(novelty=novelty, stars=3)
    page = new_page()
    sign_in(page, live_server.url, resident.email)

    page.click("nav >> text=Новинки")
    page.wait_for_url(f"{live_server.url}/novelties/")
    assert page.locator("section h2").first.inner_text() == "В вашем районе"
    assert page.locator(".novelty-card h3").first.inner_text() == "Сквер у Бауманской улицы"
    check_page(page, "1-list", test_name="novelties")

    page.click("text=Сквер у Бауманской улицы")
    page.get_by_label("1 звезда: очень плохо").focus()
    for _step in range(3):
        page.keyboard.press("ArrowDown")
    assert page.get_by_label("4 звезды: хорошо").is_checked()
    page.get_by_label("Комментарий (необязательно)").fill("Хорошо, но мало тени")
    check_page(page, "2-novelty", test_name="novelties")
    page.get_by_role("button", name="Сохранить оценку").click()
    page.wait_for_load_state()
    assert "Спасибо! Ваша оценка сохранена. Вы получили 3 балла." in page.inner_text("main")
    assert "Вы поставили 4 звезды" in page.inner_text("#rate")
    assert "Хорошо, но мало тени" in page.inner_text(".comments")
    assert page.get_by_label("4 звезды: хорошо").is_checked()  # ready to be changed
    check_page(page, "3-rated", test_name="novelties")

    page.click("text=Городские новинки")
    page.click("text=Лучшие и худшие за месяц")
    best = page.locator("section[aria-labelledby=best] h3")
    assert best.all_inner_texts() == ["Сквер у Бауманской улицы"]
    assert "4,0 из 5" in page.inner_text("section[aria-labelledby=best]")
    check_page(page, "4-ranking", test_name="novelties")

    rating = Rating.objects.get(user=resident)
    assert (rating.stars, rating.comment) == (4, "Хорошо, но мало тени")
    assert LedgerEntry.objects.filter(user=resident, amount=3).count() == 1
