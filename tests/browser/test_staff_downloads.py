from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.groups import CITY_STAFF
from tests.accounts.factories import UserFactory
from tests.browser.test_poll_end_to_end import sign_in
from tests.polls.factories import three_question_poll
from tests.polls.test_schedule import vote


@pytest.mark.django_db(transaction=True)
def test_staff_downloads_every_csv_from_the_dashboard(live_server, new_page, city_groups):
    """An analyst opens the staff overview, then the poll's dashboard, and downloads each
    export; every file starts with the BOM and a header row."""
    poll = three_question_poll(title="Парки")
    for _ in range(3):
        vote(poll)
    analyst = UserFactory(is_staff=True)
    analyst.groups.add(Group.objects.get(name=CITY_STAFF))
    page = new_page()
    sign_in(page, live_server.url, analyst.email)
    page.goto(f"{live_server.url}/staff/")
    page.click("text=Парки")
    links = page.locator("#downloads ~ ul a, section[aria-labelledby=downloads] a")
    assert links.count() == 8
    for index in range(links.count()):
        with page.expect_download() as download_info:
            links.nth(index).click()
        download = download_info.value
        assert download.suggested_filename.startswith(f"poll-{poll.pk}-")
        content = Path(download.path()).read_bytes()
        assert content.startswith("\ufeff".encode()) and b"\n" in content
