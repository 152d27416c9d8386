"""The neighbours' journey in a real browser: a resident verifies with the code from the
city's letter, creates a survey for the building, two neighbours vote, a resident of another
building gets 404, and the results show turnout and the quorum."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import residency_codes_generate
from polls.models import Ballot, Poll
from polls.tasks import refresh_live_results
from tests.accounts.factories import UserFactory, verified_resident
from tests.browser.journey import check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.civic.factories import BuildingFactory

TEST = "neighbours"


@pytest.mark.django_db(transaction=True)
def test_a_resident_verifies_creates_a_survey_and_neighbours_vote(live_server, new_page):
    base_url = live_server.url
    building = BuildingFactory(apartments=10)
    staff = UserFactory(is_staff=True, home_building=None)
    batch = residency_codes_generate(buildings=[building], label="letters", created_by=staff)
    code = batch.codes.get(apartment="3").code
    author = UserFactory(home_building=building, apartment="")
    neighbours = [verified_resident(building, "5"), verified_resident(building, "6")]
    outsider = verified_resident(BuildingFactory(), "1")

    page = new_page()
    sign_in(page, base_url, author.email)
    page.goto(f"{base_url}/my-building/")
    assert page.locator("a[href='/my-building/surveys/new/']").count() == 0
    page.fill("input[name=code]", "WRONG-CODE")
    page.click("form[action='/my-building/verify/'] button[type=submit]")
    assert page.locator("#id_code ~ .errors, .errors").first.is_visible()
    page.fill("input[name=code]", f"{code[:5].lower()} {code[5:]}")  # as typed from paper
    page.click("form[action='/my-building/verify/'] button[type=submit]")
    page.wait_for_url(f"{base_url}/my-building/")
    assert page.locator(".badge.verified").first.is_visible()
    check_page(page, "1-my-building-verified", test_name=TEST)

    page.click("a[href='/my-building/surveys/new/']")
    page.fill("[name=title]", "Ставить ли шлагбаум во дворе?")
    closes = timezone.localtime() + timedelta(days=7)
    page.fill("[name=closes_at]", closes.strftime("%Y-%m-%dT%H:%M"))
    page.check("[name=vote_unit][value=apartment]")
    page.check("[name=open_ballot][value=true]")
    page.fill("[name=quorum_percent]", "20")
    page.fill("[name=questions-0-text]", "Ставим шлагбаум?")
    page.fill("[name=questions-0-options]", "Да\nНет")
    page.click("#add-question")  # the script adds a fourth question form
    page.fill("[name=questions-3-text]", "Насколько это важно?")
    page.select_option("[name=questions-3-kind]", "scale")
    check_page(page, "2-new-survey", test_name=TEST)
    page.click("form.survey-form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/polls/\d+/$"))
    survey = Poll.objects.get(title="Ставить ли шлагбаум во дворе?")
    assert [q.kind for q in survey.questions.all()] == ["single", "scale"]
    assert page.locator(".survey-terms").is_visible()  # open ballot, per apartment, quorum
    check_page(page, "3-survey", test_name=TEST)

    for neighbour, choice, rating in zip(neighbours, ["Да", "Нет"], ["4", "2"], strict=True):
        neighbour_page = new_page()
        sign_in(neighbour_page, base_url, neighbour.email)
        neighbour_page.goto(f"{base_url}/my-building/")
        neighbour_page.click(f"a[href='/polls/{survey.pk}/']")
        neighbour_page.get_by_label(choice, exact=True).check()
        neighbour_page.locator(f"input[type=radio][value='{rating}']").check()
        neighbour_page.click("form.poll-form button[type=submit]")
        assert neighbour_page.locator(".receipt").is_visible()
    assert Ballot.objects.filter(poll=survey).count() == 2

    outsider_page = new_page()
    sign_in(outsider_page, base_url, outsider.email)
    assert outsider_page.goto(f"{base_url}/polls/{survey.pk}/").status == 404
    assert outsider_page.goto(f"{base_url}/polls/{survey.pk}/results/").status == 404

    refresh_live_results()  # what the beat does every minute for open-ballot surveys
    page.goto(f"{base_url}/polls/{survey.pk}/results/")
    assert re.search(r"2\D+10", page.locator("#turnout-apartments").inner_text())
    assert page.locator("#quorum .ok").is_visible()  # 2 of 10 apartments: 20% reached
    check_page(page, "4-results", test_name=TEST)
    table = page.locator("table.open-votes").inner_text()
    assert "Да" in table and "Нет" in table
