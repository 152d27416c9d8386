import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import HomeMoveTooSoon, ProfileChanges, profile_update
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory

START = timezone.make_aware(timezone.datetime(2026, 3, 1, 12, 0))


def changes(user: User, **overrides) -> ProfileChanges:
    values = {
        "home_building": user.home_building,
        "apartment": user.apartment,
        "birth_year": user.birth_year,
        "gender": user.gender,
        "language": user.language,
    }
    return ProfileChanges(**(values | overrides))


@pytest.fixture
def newcomer(db):
    """A resident who has not set a home building yet."""
    return UserFactory(home_building=None)


@pytest.mark.django_db
def test_first_home_building_is_set_at_once_and_starts_the_clock(newcomer):
    building = BuildingFactory()
    with time_machine.travel(START, tick=False):
        profile_update(user=newcomer, changes=changes(newcomer, home_building=building))
    newcomer.refresh_from_db()
    assert newcomer.home_building == building
    assert newcomer.home_building_changed_at == START


@pytest.mark.django_db
def test_second_move_within_30_days_is_refused_and_names_the_date(newcomer):
    """Moving again inside 30 days is refused with the next allowed date; nothing is written."""
    first, second = BuildingFactory(), BuildingFactory()
    with time_machine.travel(START, tick=False):
        profile_update(user=newcomer, changes=changes(newcomer, home_building=first))
    with (
        time_machine.travel(START + timedelta(days=29, hours=23), tick=False),
        pytest.raises(HomeMoveTooSoon) as refused,
    ):
        profile_update(
            user=newcomer, changes=changes(newcomer, home_building=second, apartment="5")
        )
    assert refused.value.next_allowed_at == START + timedelta(days=30)
    assert "31.03.2026" in str(refused.value)
    newcomer.refresh_from_db()
    assert (newcomer.home_building, newcomer.apartment) == (first, "")


@pytest.mark.django_db
def test_move_is_allowed_again_after_30_days(newcomer):
    first, second = BuildingFactory(), BuildingFactory()
    with time_machine.travel(START, tick=False):
        profile_update(user=newcomer, changes=changes(newcomer, home_building=first))
    with time_machine.travel(START + timedelta(days=30), tick=False):
        profile_update(user=newcomer, changes=changes(newcomer, home_building=second))
    newcomer.refresh_from_db()
    assert newcomer.home_building == second
    assert newcomer.home_building_changed_at == START + timedelta(days=30)


@pytest.mark.django_db
def test_other_fields_change_freely_inside_the_30_days(newcomer):
    building = BuildingFactory()
    profile_update(user=newcomer, changes=changes(newcomer, home_building=building))
    profile_update(
        user=newcomer,
        changes=changes(newcomer, apartment="12А", birth_year=1990, gender="male", language="en"),
    )
    newcomer.refresh_from_db()
    assert (newcomer.apartment, newcomer.birth_year, newcomer.gender, newcomer.language) == (
        "12А",
        1990,
        "male",
        "en",
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_inside_one_interval_move_once():
    """Ten simultaneous moves of one resident to ten buildings: exactly one is accepted."""
    resident = UserFactory(home_building=None)
    buildings = [BuildingFactory() for _ in range(10)]
    barrier = threading.Barrier(len(buildings))
    outcomes: list[str] = []

    def move(building):
        user = User.objects.get(pk=resident.pk)
        barrier.wait(timeout=60)
        try:
            profile_update(user=user, changes=changes(user, home_building=building))
            outcomes.append("moved")
        except HomeMoveTooSoon:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(building,)) for building in buildings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["moved"] + ["refused"] * 9


# --- the profile pages ---------------------------------------------------------------------


def profile_post(client, **data):
    resident_fields = {"apartment": "", "birth_year": "", "gender": "", "language": "ru"}
    return client.post(reverse("profile_edit"), resident_fields | {"action": "save"} | data)


@pytest.mark.django_db
def test_profile_page_shows_address_and_the_next_allowed_change(client):
    resident = UserFactory(apartment="7")
    with time_machine.travel(START, tick=False):
        profile_update(user=resident, changes=changes(resident, home_building=BuildingFactory()))
    client.force_login(resident)
    with time_machine.travel(START + timedelta(days=1), tick=False):
        response = client.get(reverse("profile"))
    assert response.status_code == 200
    page = response.content.decode()
    assert resident.home_building.address in page
    assert response.context["next_home_change_at"] == START + timedelta(days=30)
    assert "31 марта 2026" in page


@pytest.mark.django_db
def test_resident_finds_a_building_and_saves_it(client, newcomer):
    """Search by street and house, pick the building, save: the profile shows the new address."""
    target = BuildingFactory(street="Тверская улица", house="7", korpus="2")
    BuildingFactory(street="Тверская улица", house="9")
    client.force_login(newcomer)
    response = client.post(
        reverse("profile_edit"),
        {"action": "search", "address_query": "тверская 7", "language": "ru"},
    )
    assert list(response.context["buildings"]) == [target]
    assert f'value="{target.pk}"' in response.content.decode()

    response = profile_post(client, home_building=target.pk, apartment="15", birth_year="1980")
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert (newcomer.home_building, newcomer.apartment, newcomer.birth_year) == (target, "15", 1980)


@pytest.mark.django_db
def test_building_search_fragment_for_the_script(client, newcomer):
    target = BuildingFactory(street="Ленинский проспект", house="62", postcode="119333")
    client.force_login(newcomer)
    response = client.get(reverse("building_search"), {"q": "119333"})
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert f'value="{target.pk}"' in fragment and "Ленинский проспект" in fragment


@pytest.mark.django_db
def test_page_refuses_a_move_inside_30_days_with_a_400_and_keeps_the_input(client):
    resident = UserFactory()
    with time_machine.travel(START, tick=False):
        profile_update(user=resident, changes=changes(resident, home_building=BuildingFactory()))
    client.force_login(resident)
    other = BuildingFactory()
    with time_machine.travel(START + timedelta(days=3), tick=False):
        response = profile_post(client, home_building=other.pk, birth_year="1977")
    assert response.status_code == 400
    assert response.context["form"].errors["home_building"] == [
        str(HomeMoveTooSoon(next_allowed_at=START + timedelta(days=30)))
    ]
    assert 'value="1977"' in response.content.decode()
    resident.refresh_from_db()
    assert resident.birth_year == 1985  # nothing half-written


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"home_building": "999999999"}, "home_building"),
        ({"home_building": "abc"}, "home_building"),
        ({"apartment": "кв 5"}, "apartment"),
        ({"apartment": "500"}, "apartment"),
        ({"birth_year": "1850"}, "birth_year"),
        ({"birth_year": "2999"}, "birth_year"),
        ({"gender": "robot"}, "gender"),
        ({"language": "de"}, "language"),
    ],
)
@pytest.mark.django_db
def test_invalid_profile_input_is_a_400_naming_the_field(client, data, field):
    resident = UserFactory()
    client.force_login(resident)
    response = profile_post(client, **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors


@pytest.mark.django_db
def test_saving_the_language_switches_the_site(client):
    resident = UserFactory()
    client.force_login(resident)
    response = profile_post(client, language="en")
    assert response.cookies["django_language"].value == "en"
    assert "Profile" in client.get(reverse("profile")).content.decode()


@pytest.mark.django_db
def test_profile_pages_need_a_login(client):
    for name in ("profile", "profile_edit", "my_building", "building_search"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_my_building_shows_the_building_and_neighbour_count(client, django_assert_num_queries):
    resident = UserFactory()
    UserFactory.create_batch(3, home_building=resident.home_building)
    client.force_login(resident)
    # session, user, resident with home, neighbour count, latest residency claim,
    # unread badge, points balance
    with django_assert_num_queries(7):
        response = client.get(reverse("my_building"))
    assert response.context["resident_count"] == 4
    assert resident.home_building.address in response.content.decode()


@pytest.mark.django_db
def test_building_search_with_a_nul_character_is_not_a_500(client, newcomer):
    """Found by the API fuzzer: PostgreSQL refuses NUL in text parameters."""
    client.force_login(newcomer)
    assert client.get(reverse("building_search"), {"q": "Тверская\x007"}).status_code == 200
