"""Factories for the city map."""

import factory

from civic.models import Building, District, Okrug


class OkrugFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Okrug
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Округ {n}")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ["name"]

    okrug = factory.SubFactory(OkrugFactory)
    name = factory.Sequence(lambda n: f"Район {n}")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    district = factory.SubFactory(DistrictFactory)
    street = factory.Sequence(lambda n: f"улица Строителей {n}")
    house = factory.Sequence(lambda n: str(n % 200 + 1))
    korpus = ""
    postcode = "125009"
    apartments = 120
