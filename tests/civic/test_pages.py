import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory


@pytest.mark.django_db
def test_home_page_for_anonymous_visitors_invites_to_sign_up(client, django_assert_num_queries):
    BuildingFactory.create_batch(3)
    with django_assert_num_queries(4):  # polls (none, so no prefetch), three map counts
        response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("account_signup") in page
    assert response.context["building_count"] == 3


@pytest.mark.django_db
def test_home_page_tells_a_resident_where_they_vote(client, django_assert_num_queries):
    resident = UserFactory()
    client.force_login(resident)
    # session, user, unread badge, points balance, resident, polls (none), three counts
    with django_assert_num_queries(9):
        response = client.get(reverse("home"))
    district = resident.home_building.district
    page = response.content.decode()
    assert district.name in page and district.okrug.name in page


@pytest.mark.django_db
def test_resident_without_address_is_asked_to_set_it(client):
    client.force_login(UserFactory(home_building=None))
    response = client.get(reverse("home"))
    assert reverse("profile_edit") in response.content.decode()


@pytest.mark.django_db
def test_site_speaks_russian_by_default_and_english_on_request(client):
    """Russian is the default; the language switcher turns the site English."""
    assert "Опросы" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "Polls" in page and 'lang="en"' in page


@pytest.mark.django_db
def test_allauth_pages_use_the_site_layout(client):
    page = client.get(reverse("account_login")).content.decode()
    assert 'class="site-header"' in page
    assert 'name="login"' in page


@pytest.mark.django_db
def test_admin_searches_users_by_address(admin_client):
    resident = UserFactory(home_building=BuildingFactory(street="Профсоюзная улица", house="3"))
    UserFactory()
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "Профсоюзная"})
    assert list(response.context["cl"].result_list) == [resident]


@pytest.mark.django_db
def test_admin_lists_buildings_with_filters(admin_client):
    building = BuildingFactory()
    response = admin_client.get(
        reverse("admin:civic_building_changelist"), {"district__id__exact": building.district_id}
    )
    assert list(response.context["cl"].result_list) == [building]


@pytest.mark.django_db
def test_signed_in_resident_sees_their_preferred_language_until_they_switch(client):
    client.force_login(UserFactory(language="en"))
    assert "Polls" in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    assert "Опросы" in client.get(reverse("home")).content.decode()
