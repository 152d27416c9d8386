"""The Content Security Policy holds on the key pages in a real browser: no page of ours, of
the admin (nested inlines, date and autocomplete widgets) or of the API docs (Swagger UI)
needs an inline script or style, and the scripts that make pages work still run under it
(the in-browser proof of Check my vote, the admin's calendar, Swagger UI's rendering)."""

import re

import pytest

from polls.ballot_log import ballot_log_checkpoint
from polls.models import Ballot, PollStatus
from polls.tasks import refresh_live_results
from tests.accounts.factories import UserFactory, totp_code
from tests.browser.journey import assert_no_csp_violations
from tests.browser.test_poll_end_to_end import PASSWORD, sign_in
from tests.polls.factories import three_question_poll


def visit(page, url: str, *, ready: str = "main") -> None:
    """Open the page, wait for what shows that its scripts ran, and check the policy held."""
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
    page.wait_for_selector(ready)
    assert_no_csp_violations(page)


@pytest.mark.django_db(transaction=True)
def test_key_pages_work_under_the_content_security_policy(live_server, new_page):
    """A resident sees the home page and a poll, votes, checks the ballot in the signed
    log (Web Crypto in the browser), reads the results and the profile; an admin signs in
    with the second factor, opens a draft poll's change page and uses its calendar and
    autocomplete, and the API docs render. No page
    reports a CSP violation."""
    base = live_server.url
    poll = three_question_poll(results_visibility="live", title="Что улучшить во дворе?")
    draft = three_question_poll(title="Черновик", status=PollStatus.DRAFT)
    resident = UserFactory()
    UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)

    page = new_page()
    sign_in(page, base, resident.email)
    visit(page, f"{base}/", ready=".poll-list")
    visit(page, f"{base}/polls/{poll.pk}/", ready="form.poll-form")
    single, multiple, scale = poll.questions.order_by("position")
    page.check(f"input[name=q{single.pk}][value='{single.options.first().pk}']")
    page.check(f"input[name=q{multiple.pk}][value='{multiple.options.first().pk}']")
    page.check(f"input[name=q{scale.pk}][value='4']")
    page.click("form.poll-form button.primary")
    assert page.locator(".receipt").inner_text() == Ballot.objects.get(poll=poll).receipt
    assert_no_csp_violations(page)

    ballot_log_checkpoint(poll_id=poll.pk)
    page.click("#check-my-vote")
    page.wait_for_selector("#browser-check[data-outcome]")
    assert page.locator("#browser-check").get_attribute("data-outcome") == "ok"
    assert_no_csp_violations(page)

    refresh_live_results()
    visit(page, f"{base}/polls/{poll.pk}/results/", ready=".bars meter")
    assert page.locator(".bars meter").first.bounding_box()["width"] > 100  # drawn by CSS
    visit(page, f"{base}/profile/")
    visit(page, f"{base}/profile/edit/", ready="input[name=address_query]")
    visit(page, f"{base}/check/", ready="#receipt")

    admin = new_page()  # a staff log-in: password, then the authenticator app's code
    admin.goto(f"{base}/accounts/login/")
    admin.fill("input[name=login]", "admin@example.org")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("main form button[type=submit]")
    admin.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert_no_csp_violations(admin)
    admin.fill("input[name=code]", totp_code())
    admin.click("main form button[type=submit]")
    admin.wait_for_url(f"{base}/")
    visit(admin, f"{base}/admin/polls/poll/", ready="#result_list")
    visit(admin, f"{base}/admin/polls/poll/{draft.pk}/change/", ready=".djn-group")
    admin.click(".field-opens_at .datetimeshortcuts a[id^=calendarlink]")  # the calendar
    admin.wait_for_selector(".calendarbox", state="visible")
    admin.click(".field-districts .select2-selection")  # the autocomplete widget
    admin.wait_for_selector(".select2-results")
    assert_no_csp_violations(admin)

    visit(admin, f"{base}/api/docs/", ready=".swagger-ui .opblock")
