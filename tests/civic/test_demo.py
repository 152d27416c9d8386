from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import User
from civic.demo import DEMO_PASSWORD, demo_logins
from civic.models import Building, District, Okrug


@pytest.mark.django_db
def test_demo_city_loads_once_with_logins_in_every_okrug(city_groups):
    """The demo city has 12 okrugs, 40+ districts, 2,000+ buildings and 500+ residents with
    birth years and genders; loading it again creates nothing; the printed logins work."""
    call_command("load_demo", stdout=StringIO())
    counts = (Okrug.objects.count(), District.objects.count(), Building.objects.count())
    residents = User.objects.filter(is_staff=False)
    assert counts[0] == 12 and counts[1] >= 40 and counts[2] >= 2000
    assert residents.count() >= 500
    assert not residents.filter(birth_year__isnull=True).exists()
    assert set(residents.values_list("gender", flat=True)) == {"female", "male", "undisclosed"}
    okrugs_with_residents = Okrug.objects.annotate(
        residents=Count("districts__buildings__residents")
    ).filter(residents__gt=0)
    assert okrugs_with_residents.count() == 12

    call_command("load_demo", stdout=(out := StringIO()))
    assert "0 buildings created" in out.getvalue() and "0 residents created" in out.getvalue()
    assert "0 polls and 0 rewards created" in out.getvalue()
    call_command("rewards_audit", stdout=StringIO())  # the demo's points add up
    assert User.objects.filter(is_staff=False).count() == residents.count()

    logins = demo_logins()
    resident_logins = [login for login in logins if login.role == "Resident"]
    assert len(resident_logins) == 12
    assert len({login.place.split(",")[0] for login in resident_logins}) == 12
    for login in logins:
        assert authenticate(email=login.email, password=DEMO_PASSWORD) is not None, login.email
    assert User.objects.get(email="admin@demo.civic.local").groups.get().name == CITY_ADMINS
    assert User.objects.get(email="analyst@demo.civic.local").groups.get().name == CITY_STAFF
