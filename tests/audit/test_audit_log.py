"""The audit log: every admin save, delete and action, and the staff's downloads, leave an
entry with who, what, when and the values before and after; nobody can change or delete an
entry, in the admin or in SQL; the admin filters it and lists it in a fixed number of
queries."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.services import residency_claim_request, residency_codes_generate
from audit.models import AuditAction, AuditEntry
from audit.services import HIDDEN, audit_record, audit_snapshot
from civic.admin_base import AuditedAdmin
from civic.models import Okrug
from discussions.services import discussion_summary_publish
from polls.models import Option, Poll, PollStatus, Question
from rewards.models import Reward
from tests.accounts.factories import UserFactory, verified_resident
from tests.civic.factories import BuildingFactory
from tests.discussions.factories import DiscussionFactory
from tests.polls.factories import three_question_poll
from tests.rewards.factories import RewardFactory

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The fields a browser would submit from a page's form with id ``form_id``."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if (
            not self.inside
            or "__prefix__" in attrs.get("name", "")
            or "empty" in (attrs.get("name") or "")
        ):
            return
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            if attrs.get("type") not in ("checkbox", "radio"):
                self.data.append((attrs["name"], attrs.get("value") or ""))
            elif "checked" in attrs:
                self.data.append((attrs["name"], attrs.get("value") or "on"))
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self.data.append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea:
            name, text = self.data[-1]
            self.data[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def admin_form(client, url: str, form_id: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    data: dict = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value.strip("\n") if name else value)
    return data


@pytest.fixture
def superuser(client):
    user = UserFactory(email="chief@example.org", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("pk"))


def test_every_admin_is_audited():
    """Ours by inheritance, the libraries' (groups, periodic tasks, allauth's) by the audit
    app's start-up: no registered admin escapes the log."""
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdmin)
    ]
    assert not unaudited
    assert isinstance(admin.site._registry[Group], AuditedAdmin)


def test_changing_a_poll_records_the_poll_and_its_inline_questions_and_options(client, superuser):
    """A draft poll saved in the admin with a new title, a question reworded and an option
    deleted: an entry for each record, each with its values before and after (the sortable
    options left renumbered are recorded too)."""
    poll = three_question_poll(status=PollStatus.DRAFT, title="Старое название")
    question = poll.questions.order_by("position").first()
    option = question.options.order_by("position").first()
    url = reverse("admin:polls_poll_change", args=[poll.pk])
    data = admin_form(client, url, "poll_form")
    data["title"] = ["Новое название"]
    data["questions-0-text"] = ["Новый вопрос?"]
    data["questions-0-options-0-DELETE"] = ["on"]
    data["_save"] = ["Save"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""

    (poll_entry,) = entries(
        action=AuditAction.CHANGE, object_id=str(poll.pk), content_type=ct(Poll)
    )
    assert (poll_entry.actor, poll_entry.actor_label) == (superuser, "chief@example.org")
    assert poll_entry.before["title"] == "Старое название"
    assert poll_entry.after["title"] == "Новое название"
    assert "description" not in poll_entry.before  # only what changed
    (question_entry,) = entries(content_type=ct(Question), object_id=str(question.pk))
    assert question_entry.action == AuditAction.CHANGE
    assert question_entry.before["text"] == question.text
    assert question_entry.after["text"] == "Новый вопрос?"
    assert question_entry.detail == "опрос: Новое название"  # in the site's language
    (option_entry,) = entries(content_type=ct(Option), action=AuditAction.DELETE)
    assert option_entry.before["text"] == option.text and option_entry.after == {}
    renumbered = entries(content_type=ct(Option), action=AuditAction.CHANGE)
    assert renumbered and all(set(entry.after) == {"position"} for entry in renumbered)
    assert not Option.objects.filter(pk=option.pk).exists()


def ct(model) -> ContentType:
    return ContentType.objects.get_for_model(model, for_concrete_model=False)


def test_adding_and_deleting_in_the_admin_are_recorded(client, superuser):
    response = client.post(reverse("admin:civic_okrug_add"), {"name": "ЮЗАО", "_save": "1"})
    assert response.status_code == 302
    okrug = Okrug.objects.get(name="ЮЗАО")
    (added,) = entries(action=AuditAction.ADD)
    assert (added.object_repr, added.before, added.after) == (
        "ЮЗАО",
        {},
        {"id": okrug.pk, "name": "ЮЗАО"},
    )
    url = reverse("admin:civic_okrug_delete", args=[okrug.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    (deleted,) = entries(action=AuditAction.DELETE)
    assert (deleted.object_id, deleted.before, deleted.after) == (
        str(okrug.pk),
        {"id": okrug.pk, "name": "ЮЗАО"},
        {},
    )


def test_an_admin_action_records_each_record_with_what_it_changed(client, superuser):
    draft = three_question_poll(status=PollStatus.DRAFT)
    other = three_question_poll(status=PollStatus.DRAFT)
    response = client.post(
        reverse("admin:polls_poll_changelist"),
        {"action": "publish", "_selected_action": [draft.pk, other.pk]},
    )
    assert response.status_code == 302
    published = entries(action=AuditAction.ADMIN_ACTION)
    assert {entry.object_id for entry in published} == {str(draft.pk), str(other.pk)}
    for entry in published:
        assert entry.detail == "Опубликовать выбранные опросы"
        assert (entry.before["status"], entry.after["status"]) == ("draft", "published")


def test_what_a_service_writes_with_update_is_seen(client, superuser):
    """The reward admin changes stock through reward_restock (a conditional UPDATE, which
    signals never see): the entry still has the stock before and after."""
    reward = RewardFactory(stock=10, cost=60)
    url = reverse("admin:rewards_reward_change", args=[reward.pk])
    data = admin_form(client, url, "reward_form")
    data.update({"cost": ["80"], "stock_change": ["5"], "_save": ["Save"]})
    assert client.post(url, data).status_code == 302
    (entry,) = entries(content_type=ct(Reward))
    assert (entry.before, entry.after) == ({"cost": 60, "stock": 10}, {"cost": 80, "stock": 15})


def test_personal_data_and_secrets_are_recorded_as_changed_without_their_values(client, superuser):
    """A resident made staff and renamed in the admin: the log keeps is_staff before and
    after, says the name changed without keeping it, and names the account by number."""
    resident = UserFactory(first_name="Анна")
    url = reverse("admin:accounts_user_change", args=[resident.pk])
    data = admin_form(client, url, "user_form")
    data.update({"first_name": ["Мария"], "is_staff": ["on"], "_save": ["Save"]})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    (entry,) = entries(action=AuditAction.CHANGE)
    assert entry.before == {"first_name": HIDDEN, "is_staff": False}
    assert entry.after == {"first_name": HIDDEN, "is_staff": True}
    assert entry.object_repr == f"пользователь #{resident.pk}"
    assert resident.email not in str(entry.before) + str(entry.after) + entry.object_repr

    password_url = reverse("admin:auth_user_password_change", args=[resident.pk])
    response = client.post(
        password_url, {"password1": "a-new-long-password", "password2": "a-new-long-password"}
    )
    assert response.status_code == 302
    (password_entry,) = entries(action=AuditAction.CHANGE)[1:]
    assert password_entry.before == {"password": HIDDEN}
    assert password_entry.after == {"password": HIDDEN}


def test_a_residents_gender_home_and_verified_address_are_kept_without_their_values():
    """The log is kept forever: whatever places or describes a resident is recorded as
    changed, never with its value."""
    building = BuildingFactory(apartments=5)
    resident = verified_resident(building, "3", gender="female")
    moved = verified_resident(BuildingFactory(apartments=5), "4", gender="male")
    fields = ("gender", "home_building", "verified_building", "verified_apartment", "apartment")
    before = audit_snapshot(resident)
    after = audit_snapshot(moved)
    entry = audit_record(
        actor=None,
        action=AuditAction.CHANGE,
        obj=resident,
        before={name: before[name] for name in fields},
        after={name: after[name] for name in fields},
    )
    assert entry.before == entry.after == dict.fromkeys(fields, HIDDEN)


def test_a_residency_claim_decided_in_the_admin_is_recorded(client, superuser):
    claim = residency_claim_request(user=UserFactory(apartment="3"))
    url = reverse("admin:accounts_residencyclaim_change", args=[claim.pk])
    response = client.post(url, {"decision": "decline", "decision_reason": "Нет такого жильца"})
    assert response.status_code == 302
    (entry,) = entries(action=AuditAction.CHANGE)
    assert entry.before["status"] == "pending" and entry.after["status"] == "rejected"
    assert entry.after["reason"] == "Нет такого жильца"
    assert entry.after["decided_by"] == superuser.pk
    assert entry.object_repr.endswith(f" #{claim.pk}")


def test_staff_downloads_are_recorded(client, superuser, city_groups):
    """A poll's CSV export and recount, a batch of residency codes and a discussion's
    summary: who took which file."""
    poll = three_question_poll()
    client.get(reverse("staff_export", args=[poll.pk, "results"]))
    assert client.get(reverse("staff_recount_csv", args=[poll.pk])).status_code == 200
    batch = residency_codes_generate(
        buildings=[BuildingFactory(apartments=2)], label="Тверская", created_by=superuser
    )
    client.get(reverse("admin:accounts_residencycodebatch_csv", args=[batch.pk]))
    client.get(reverse("admin:accounts_residencycodebatch_pdf", args=[batch.pk]))
    discussion = DiscussionFactory(
        title="Набережная",
        opens_at=timezone.now() - timedelta(days=30),
        closes_at=timezone.now() - timedelta(hours=1),
    )
    discussion_summary_publish(discussion_id=discussion.pk)
    client.get(reverse("discussion_summary_csv", args=[discussion.pk]))
    downloads = entries(action=AuditAction.DOWNLOAD)
    assert [(entry.object_repr, entry.actor) for entry in downloads] == [
        (poll.title, superuser),
        (poll.title, superuser),
        ("Тверская", superuser),
        ("Тверская", superuser),
        ("Набережная", superuser),
    ]
    assert re.fullmatch(rf"poll-{poll.pk}-results-.*\.csv", downloads[0].detail)
    assert re.fullmatch(rf"poll-{poll.pk}-recount-.*\.csv", downloads[1].detail)
    assert downloads[2].detail == f"residency-codes-{batch.pk}.csv"


def test_entries_cannot_be_changed_or_deleted_even_in_sql(superuser):
    entry = audit_record(
        actor=superuser, action=AuditAction.DOWNLOAD, obj=three_question_poll(), detail="x.csv"
    )
    for statement in (
        "UPDATE audit_auditentry SET detail = 'y.csv' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.detail == "x.csv"


def test_the_admin_shows_entries_and_never_changes_them(client, superuser, city_groups):
    """City admins read the log; nobody (a superuser neither) adds, changes or deletes."""
    entry = audit_record(
        actor=superuser,
        action=AuditAction.CHANGE,
        obj=three_question_poll(),
        before={"title": "Было"},
        after={"title": "Стало"},
    )
    city_admin = UserFactory(is_staff=True)
    city_admin.groups.add(Group.objects.get(name=CITY_ADMINS))
    analyst = UserFactory(is_staff=True)
    analyst.groups.add(Group.objects.get(name=CITY_STAFF))
    change_url = reverse("admin:audit_auditentry_change", args=[entry.pk])

    for user in (superuser, city_admin):
        client.force_login(user)
        page = client.get(change_url)
        assert page.status_code == 200
        assert "Было" in page.content.decode() and "Стало" in page.content.decode()
        assert client.post(change_url, {"detail": "forged"}).status_code == 403
        delete_url = reverse("admin:audit_auditentry_delete", args=[entry.pk])
        assert client.post(delete_url, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
        changelist = client.get(reverse("admin:audit_auditentry_changelist"))
        assert changelist.status_code == 200
        assert "delete_selected" not in changelist.content.decode()
    client.force_login(analyst)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403
    entry.refresh_from_db()
    assert entry.detail == ""


def test_the_log_filters_by_actor_kind_of_record_action_and_date(client, superuser):
    other = UserFactory(email="deputy@example.org", is_staff=True)
    poll, reward = three_question_poll(), RewardFactory()
    by_other = audit_record(actor=other, action=AuditAction.CHANGE, obj=poll, after={"title": "a"})
    download = audit_record(actor=superuser, action=AuditAction.DOWNLOAD, obj=poll)
    reward_change = audit_record(
        actor=superuser, action=AuditAction.CHANGE, obj=reward, after={"cost": 1}
    )
    url = reverse("admin:audit_auditentry_changelist")

    def shown(**params) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {entry.pk for entry in response.context["cl"].result_list}

    assert shown() == {by_other.pk, download.pk, reward_change.pk}
    assert shown(actor__id__exact=other.pk) == {by_other.pk}
    assert shown(content_type__id__exact=ct(Reward).pk) == {reward_change.pk}
    assert shown(action__exact="download") == {download.pk}
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    assert shown(created_at__gte=(today + timedelta(days=1)).isoformat()) == set()
    assert len(shown(created_at__gte=today.isoformat())) == 3
    assert shown(q="deputy") == {by_other.pk}
    page = client.get(url).content.decode()
    assert "deputy@example.org" in page  # in the actor filter


def test_the_changelist_takes_the_same_number_of_queries_for_many_entries(
    client, superuser, django_assert_max_num_queries
):
    poll = three_question_poll()

    def record(count: int) -> None:
        for number in range(count):
            actor = UserFactory(is_staff=True)
            audit_record(actor=actor, action=AuditAction.CHANGE, obj=poll, after={"n": number})

    url = reverse("admin:audit_auditentry_changelist")
    record(3)
    client.get(url)  # warm the content type cache
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    record(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_suspending_and_reinstating_accounts_are_recorded(client, superuser):
    """The suspension page (outside the admin's own forms) and the reinstate action. The
    action that only shows the suspension form records nothing: nothing happened yet."""
    resident = UserFactory()
    form = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "suspend_accounts", "_selected_action": [resident.pk]},
    )
    assert form.status_code == 200 and "form" in form.context
    assert entries(action=AuditAction.ADMIN_ACTION) == []
    response = client.post(
        reverse("admin:accounts_user_suspend"),
        {"accounts": [resident.pk], "reason": "40 аккаунтов с одного адреса за час"},
    )
    assert response.status_code == 302
    (suspended,) = entries(action=AuditAction.ADMIN_ACTION)
    assert (suspended.object_id, suspended.actor) == (str(resident.pk), superuser)
    assert suspended.before["suspended_at"] is None and suspended.after["suspended_at"]
    assert suspended.after["suspension_reason"] == "40 аккаунтов с одного адреса за час"
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reinstate_accounts", "_selected_action": [resident.pk]},
    )
    reinstated = entries(action=AuditAction.ADMIN_ACTION)[-1]
    assert reinstated.before["suspended_at"] and reinstated.after["suspended_at"] is None
