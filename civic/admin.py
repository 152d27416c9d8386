from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from civic.models import Building, District, Okrug


@admin.register(Okrug)
class OkrugAdmin(admin.ModelAdmin):
    list_display = ["name", "district_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        # Meta.ordering is not applied to GROUP BY queries: order explicitly.
        return (
            super()
            .get_queryset(request)
            .annotate(district_count=Count("districts"))
            .order_by("name")
        )

    @admin.display(description=_("districts"), ordering="district_count")
    def district_count(self, okrug: Okrug) -> int:
        return okrug.district_count


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "okrug", "building_count"]
    list_filter = ["okrug"]
    list_select_related = ["okrug"]
    search_fields = ["name", "okrug__name"]
    autocomplete_fields = ["okrug"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(building_count=Count("buildings"))
            .order_by("name")
        )

    @admin.display(description=_("buildings"), ordering="building_count")
    def building_count(self, district: District) -> int:
        return district.building_count


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["street", "house", "korpus", "postcode", "apartments", "district"]
    list_filter = ["district__okrug", "district"]
    list_select_related = ["district"]
    search_fields = ["street", "house", "postcode", "district__name"]
    autocomplete_fields = ["district"]
    show_full_result_count = False
