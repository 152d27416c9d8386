import csv
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.groups import CITY_STAFF
from polls.services import poll_tally
from tests.accounts.factories import UserFactory
from tests.browser.journey import check_page
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
    poll_tally(poll_id=poll.pk, final=False)  # what the beat does for live results
    analyst = UserFactory(is_staff=True)
    analyst.groups.add(Group.objects.get(name=CITY_STAFF))
    page = new_page()
    sign_in(page, live_server.url, analyst.email, staff=True)
    page.goto(f"{live_server.url}/staff/")
    check_page(page, "1-overview", test_name="staff")
    page.click("text=Парки")
    check_page(page, "2-dashboard", test_name="staff")
    links = page.locator("section[aria-labelledby=downloads] ul a")
    assert links.count() == 8
    files = {}
    for index in range(links.count()):
        with page.expect_download() as download_info:
            links.nth(index).click()
        download = download_info.value
        assert download.suggested_filename.startswith(f"poll-{poll.pk}-")
        content = Path(download.path()).read_bytes()
        assert content.startswith("\ufeff".encode()) and b"\n" in content
        kind = re.match(r"poll-\d+-(\w+)-", download.suggested_filename).group(1)
        files.setdefault(kind, content)  # the comma-separated one comes first

    # The numbers of results.csv are the numbers the dashboard shows.
    rows = list(csv.reader(io.StringIO(files["results"].decode("utf-8-sig"))))
    on_page = {
        (bar.locator(".bar-label").inner_text(), bar.locator(".bar-value small").inner_text())
        for bar in page.locator(".bar-row:has(.bar-value small)").all()
    }
    in_file = {(row[4], f"({row[5]})") for row in rows[2:] if row[1] == "city" and row[4]}
    assert on_page and on_page <= in_file
    assert any(count != "(0)" for _label, count in on_page)
