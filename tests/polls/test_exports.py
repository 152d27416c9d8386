import csv
import io
import re
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.groups import CITY_ADMINS, CITY_STAFF
from polls.models import ExportRecord, Poll, QuestionKind
from polls.selectors import poll_results, poll_with_questions
from polls.services import poll_results_publish, poll_tally
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.polls.factories import OptionFactory, PollFactory, QuestionFactory
from tests.polls.test_results import vote

KINDS = ["results", "breakdown", "ballots", "participation"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def poll(city_groups):
    """Closed and published: a single choice with awkward option texts, a free-text
    question; 12 voters in one district, 2 in another (a cell to hide)."""
    poll = PollFactory(title="Парки, скверы")
    single = QuestionFactory(poll=poll, kind=QuestionKind.SINGLE, text='Что "важнее"?')
    plain = OptionFactory(question=single, text="Скамейки, урны")
    tricky = OptionFactory(question=single, text='Свет "ночью"\nи днём')
    formula = OptionFactory(question=single, text="=SUM(A1:A9)")
    text = QuestionFactory(poll=poll, kind=QuestionKind.TEXT, text="Пожелания", required=False)
    big, small = BuildingFactory(), BuildingFactory()
    choices = [plain] * 6 + [tricky] * 4 + [formula] * 2
    for option in choices:
        vote(
            poll,
            [AnswerInput(single.pk, (option.pk,)), AnswerInput(text.pk, text="+7 999")],
            home_building=big,
        )
    for _ in range(2):
        vote(poll, [AnswerInput(single.pk, (plain.pk,))], home_building=small)
    Poll.objects.filter(pk=poll.pk).update(closed_at=poll.opens_at)
    poll_tally(poll_id=poll.pk, final=True)
    poll_results_publish(poll_id=poll.pk)
    return poll


def member_of(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def download(client, poll, kind, **params) -> tuple[bytes, list[list[str]]]:
    response = client.get(reverse("staff_export", args=[poll.pk, kind]), params)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    separator = ";" if params.get("sep") == "semicolon" else ","
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=separator))


@pytest.mark.parametrize("kind", KINDS)
def test_only_city_staff_and_admins_may_export(client, poll, kind):
    url = reverse("staff_export", args=[poll.pk, kind])
    assert client.get(url).status_code == 302  # anonymous: the login page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403  # a resident
    for group in (CITY_STAFF, CITY_ADMINS):
        client.force_login(member_of(group))
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith(
            f'attachment; filename="poll-{poll.pk}-{kind}-'
        )


@pytest.mark.parametrize("url_name", ["staff_overview", "staff_dashboard"])
def test_staff_pages_are_for_staff(client, poll, url_name):
    url = reverse(url_name, args=[poll.pk] if url_name == "staff_dashboard" else [])
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(member_of(CITY_STAFF))
    assert client.get(url).status_code == 200


def decimal_point(cell: str) -> str:
    """The semicolon variant writes decimal commas, as Excel in Russian locales reads them."""
    return cell.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", cell) else cell


def test_files_have_a_bom_and_a_semicolon_variant(client, poll):
    client.force_login(member_of(CITY_STAFF))
    for kind in KINDS:
        body, rows = download(client, poll, kind)
        assert body.startswith("\ufeff".encode())
        _, semicolon_rows = download(client, poll, kind, sep="semicolon")
        assert [[decimal_point(cell) for cell in row] for row in semicolon_rows] == rows
    assert (
        client.get(reverse("staff_export", args=[poll.pk, "results"]), {"sep": "tab"}).status_code
        == 404
    )
    assert ExportRecord.objects.filter(poll=poll).count() == 2 * len(KINDS)


def test_commas_quotes_and_newlines_survive_and_formulas_are_defused(client, poll):
    client.force_login(member_of(CITY_STAFF))
    _, results = download(client, poll, "results")
    options = {row[4] for row in results[1:] if row[1] == "city"}
    assert {"Скамейки, урны", 'Свет "ночью"\nи днём', "'=SUM(A1:A9)"} <= options
    assert results[1][0] == "Парки, скверы"
    _, ballots = download(client, poll, "ballots")
    assert ballots[0][5:] == ['Что "важнее"?', "Пожелания"]
    answers = Counter(row[5] for row in ballots[1:])
    assert answers["'=SUM(A1:A9)"] == 2 and answers['Свет "ночью"\nи днём'] == 4
    assert "'+7 999" in {row[6] for row in ballots[1:]}  # free text, for staff, defused


def test_ballots_carry_no_identity_and_recount_to_the_results(client, poll):
    """A recount from ballots.csv equals results.csv, which equals the results page."""
    client.force_login(member_of(CITY_STAFF))
    _, ballots = download(client, poll, "ballots")
    assert ballots[0][:5] == ["receipt", "okrug", "district", "age_band", "gender"]
    assert len(ballots) - 1 == 14
    recount = Counter(row[5] for row in ballots[1:])
    _, results = download(client, poll, "results")
    city = {row[4]: int(row[5]) for row in results[1:] if row[1] == "city" and row[4]}
    assert {option.lstrip("'"): n for option, n in recount.items()} == {
        option.lstrip("'"): n for option, n in city.items()
    }
    page = poll_results(poll=poll_with_questions(poll_id=poll.pk)).questions[0]
    assert {share.label: share.count for share in page.shares} == {
        option.lstrip("'") if option.startswith("'=") else option: n for option, n in city.items()
    }
    body, _ = download(client, poll, "ballots")
    for email in poll.participations.values_list("user__email", flat=True):
        assert email.encode() not in body


def test_breakdown_hides_small_groups(client, poll):
    client.force_login(member_of(CITY_STAFF))
    _, rows = download(client, poll, "breakdown")
    districts = {row[1] for row in rows[1:] if row[0] == "district"}
    assert len(districts) == 0  # one district of 12 and one of 2: both hidden together
    _, results = download(client, poll, "results")
    assert {row[1] for row in results[1:]} == {"city"}
    assert results[1][3:6] == ["participants", "", "14"]


def test_participation_counts_per_hour_and_district(client, poll):
    client.force_login(member_of(CITY_STAFF))
    _, rows = download(client, poll, "participation")
    assert rows[0] == ["hour", "district", "participants"]
    assert sum(int(row[2]) for row in rows[1:]) == 14


def test_exports_stream_the_ballots_in_pieces(client, poll):
    client.force_login(member_of(CITY_STAFF))
    response = client.get(reverse("staff_export", args=[poll.pk, "ballots"]))
    assert response.streaming


def test_building_survey_ballots_go_to_their_author_without_the_voter_snapshot(client, city_groups):
    """A survey's author (a resident) may export its ballots once it has closed: receipts and
    choices only — no age, gender, area or free text, which inside one building could name
    the neighbour — as long as they are a verified resident there. Others get 403."""
    author = UserFactory()
    author.verified_building, author.verified_apartment = author.home_building, "1"
    author.save(update_fields=["verified_building", "verified_apartment"])
    survey = PollFactory(scope="building", building=author.home_building, created_by=author)
    neighbour = {
        "home_building": author.home_building,
        "verified_building": author.home_building,
        "verified_apartment": "12",
    }
    single = QuestionFactory(poll=survey, kind=QuestionKind.SINGLE)
    other = OptionFactory(question=single, text="Другое", is_other=True)
    OptionFactory(question=single, text="Да")
    vote(
        survey,
        [AnswerInput(single.pk, (other.pk,), other_text="квартира 12")],
        **neighbour,
    )
    url = reverse("staff_export", args=[survey.pk, "ballots"])
    client.force_login(author)
    assert client.get(url).status_code == 403  # still open
    Poll.objects.filter(pk=survey.pk).update(
        opens_at=survey.opens_at.replace(year=2020), closes_at=survey.opens_at.replace(year=2021)
    )
    assert client.get(url).status_code == 403  # closed, results not published yet
    Poll.objects.filter(pk=survey.pk).update(results_published_at=survey.opens_at)
    _, rows = download(client, survey, "ballots")
    assert rows[0] == ["receipt", single.text]
    assert rows[1][1] == "Другое"
    client.force_login(UserFactory(home_building=author.home_building))
    assert client.get(url).status_code == 403


def test_negative_scale_values_stay_numbers(client, city_groups):
    poll = PollFactory()
    scale = QuestionFactory(poll=poll, kind=QuestionKind.SCALE, scale_min=-2, scale_max=2)
    vote(poll, [AnswerInput(scale.pk, value=-2)])
    poll_tally(poll_id=poll.pk, final=False)
    client.force_login(member_of(CITY_STAFF))
    Poll.objects.filter(pk=poll.pk).update(results_visibility="live")
    _, rows = download(client, poll, "results")
    assert "-2" in {row[4] for row in rows[1:]}


def test_integrations_download_exports_through_the_api(poll):
    """The same files under /api/, for a staff member signed in by session or token."""
    api = APIClient()
    url = f"/api/polls/{poll.pk}/export/results.csv"
    assert api.get(url).status_code == 401
    api.force_authenticate(UserFactory())
    assert api.get(url).json()["code"] == "permission_denied"
    api.force_authenticate(member_of(CITY_STAFF))
    response = api.get(url, {"sep": "semicolon"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith("\ufeff".encode())
