"""A decision after a poll, in a real browser: a city admin records it in the Django admin
from the poll's page and later marks it done; a resident who voted reads both notices, the
decision's timeline on the poll's results and the headline on the public Decisions page.
Every key page is screenshotted and checked with axe and for untranslated text."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.groups import CITY_ADMINS
from accounts.models import NotificationKind
from polls.models import Decision, DecisionStatus, Poll
from polls.services import decision_announce, poll_results_publish, poll_tally
from tests.accounts.factories import UserFactory
from tests.browser.journey import ADMIN_WIDGETS, check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.polls.factories import three_question_poll
from tests.polls.test_schedule import vote

TEST = "decision"
# Django admin's breadcrumbs tell their links apart by colour alone (upstream markup): with
# a decision's long name after them, axe counts them as a block of text.
ADMIN_PAGE = [*ADMIN_WIDGETS, [".breadcrumbs"]]


def announce(decision: Decision) -> list[str]:
    """What beat does within a minute: tell the participants (until nothing is left)."""
    kinds = []
    while kind := decision_announce(decision_id=decision.pk):
        kinds.append(kind)
    return kinds


@pytest.mark.django_db(transaction=True)
def test_an_admin_records_a_decision_and_a_resident_who_voted_follows_it(
    live_server, new_page, city_groups
):
    base = live_server.url
    poll = three_question_poll(title="Часы работы библиотек")
    resident = UserFactory(email="olga@example.org")
    vote(poll, resident)
    now = timezone.now()
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=now - timedelta(days=5), closes_at=now - timedelta(hours=2), closed_at=now
    )
    poll_tally(poll_id=poll.pk, final=True)
    poll_results_publish(poll_id=poll.pk)
    admin_user = UserFactory(email="admin@example.org", is_staff=True)
    admin_user.groups.add(Group.objects.get(name=CITY_ADMINS))

    admin = new_page()
    sign_in(admin, base, "admin@example.org", staff=True)
    admin.goto(f"{base}/admin/polls/poll/{poll.pk}/change/")
    admin.get_by_role("link", name="Записать решение").click()
    admin.wait_for_url(re.compile(r"/admin/polls/decision/add/\?poll="))
    admin.fill("[name=text]", "Продлить работу районных библиотек по будням до 22:00.")
    admin.fill("[name=responsible_body]", "Департамент культуры")
    admin.select_option("[name=status]", DecisionStatus.DECLINED)  # without its reason first
    admin.click("input[name=_save]")
    assert "Укажите причину отказа" in admin.locator(".field-note").inner_text()
    admin.select_option("[name=status]", DecisionStatus.IN_PROGRESS)
    check_page(admin, "1-admin-records-a-decision", test_name=TEST, exclude=ADMIN_PAGE)
    admin.click("input[name=_save]")
    admin.wait_for_url(re.compile(r"/admin/polls/decision/$"))
    decision = Decision.objects.get(poll=poll)
    assert (decision.status, decision.recorded_by) == (DecisionStatus.IN_PROGRESS, admin_user)
    assert announce(decision) == [NotificationKind.DECISION_RECORDED]

    resident_page = new_page()
    sign_in(resident_page, base, "olga@example.org")
    resident_page.goto(f"{base}/notifications/")
    notice = resident_page.get_by_role(
        "link", name="Решение города по итогам опроса «Часы работы библиотек»"
    )
    check_page(resident_page, "2-resident-is-told", test_name=TEST)
    notice.click()
    resident_page.wait_for_url(re.compile(rf"/polls/{poll.pk}/results/"))
    decision_card = resident_page.locator(f"#decision-{decision.pk}")
    assert "Выполняется" in decision_card.inner_text()
    assert "Департамент культуры" in decision_card.inner_text()

    admin.goto(f"{base}/admin/polls/decision/{decision.pk}/change/")
    admin.select_option("[name=new_status]", DecisionStatus.DONE)
    admin.fill("[name=note]", "С понедельника библиотеки работают до 22:00.")
    check_page(admin, "3-admin-marks-it-done", test_name=TEST, exclude=ADMIN_PAGE)
    admin.click("input[name=_save]")
    admin.wait_for_url(re.compile(r"/admin/polls/decision/$"))
    admin.goto(f"{base}/admin/polls/decision/{decision.pk}/change/")
    history = admin.locator("#updates-group").inner_text()
    assert "Выполняется" in history and "С понедельника библиотеки работают до 22:00." in history
    check_page(admin, "4-admin-sees-the-history", test_name=TEST, exclude=ADMIN_PAGE)
    assert announce(decision) == [NotificationKind.DECISION_DONE]
    assert announce(decision) == []

    resident_page.goto(f"{base}/notifications/")
    done = resident_page.get_by_role(
        "link", name="Выполнено решение по итогам опроса «Часы работы библиотек»"
    )
    done.click()
    resident_page.wait_for_url(re.compile(rf"/polls/{poll.pk}/results/"))
    steps = decision_card.locator(".timeline li")
    assert steps.count() == 2
    assert "Выполнено" in steps.nth(1).inner_text()
    check_page(resident_page, "5-results-with-the-decision", test_name=TEST)

    resident_page.get_by_role("link", name="Все решения по итогам опросов").click()
    resident_page.wait_for_url(f"{base}/decisions/")
    assert "Принято решений: 1, выполнено: 1" in resident_page.locator("h2").first.inner_text()
    resident_page.select_option("[name=status]", DecisionStatus.DECLINED)
    resident_page.click("form.filters button[type=submit]")
    resident_page.wait_for_url(re.compile(r"status=declined"))
    assert "Принято решений: 0, выполнено: 0" in resident_page.locator("h2").first.inner_text()
    resident_page.goto(f"{base}/decisions/")
    check_page(resident_page, "6-decisions-page", test_name=TEST)
