"""Reads of the city map shared by pages, the API and the admin."""

from django.db.models import Q, QuerySet

from civic.models import Building, Okrug

BUILDING_SEARCH_LIMIT = 20


def building_search(*, query: str, limit: int = BUILDING_SEARCH_LIMIT) -> QuerySet[Building]:
    """Buildings whose address matches every word of ``query`` ("тверская 7 2" finds korpus 2)."""
    words = query.replace("\x00", "").replace(",", " ").split()  # PostgreSQL text has no NUL
    if not words:
        return Building.objects.none()
    condition = Q()
    for word in words:
        condition &= (
            Q(street__icontains=word)
            | Q(house__iexact=word)
            | Q(korpus__iexact=word)
            | Q(postcode=word)
            | Q(district__name__icontains=word)
        )
    return (
        Building.objects.filter(condition)
        .select_related("district__okrug")
        .order_by("street", "house", "korpus")[:limit]
    )


def okrugs_with_districts() -> QuerySet[Okrug]:
    return Okrug.objects.prefetch_related("districts")
