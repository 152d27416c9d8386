from django.contrib import admin
from django.db.models import Count
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.services import residency_codes_generate
from civic.admin_base import AuditedModelAdmin
from civic.models import Building, District, Okrug


def _codes_generated(modeladmin, request, buildings, label: str):
    """Make the codes, then open the batch's page with its CSV and PDF downloads."""
    batch = residency_codes_generate(buildings=buildings, label=label, created_by=request.user)
    count = batch.codes.count()
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d code generated: download the list and the letters below.",
            "%(count)d codes generated: download the list and the letters below.",
            count,
        )
        % {"count": count},
    )
    return redirect("admin:accounts_residencycodebatch_change", batch.pk)


@admin.action(
    description=_("Generate residency codes for every apartment"),
    permissions=["generate_codes"],
)
def generate_building_codes(modeladmin, request, queryset):
    buildings = list(queryset.order_by("street", "house", "korpus"))
    label = "; ".join(building.address for building in buildings[:3])
    if len(buildings) > 3:
        label += f" … (+{len(buildings) - 3})"
    return _codes_generated(modeladmin, request, buildings, label)


@admin.action(
    description=_("Generate residency codes for every apartment of these districts"),
    permissions=["generate_codes"],
)
def generate_district_codes(modeladmin, request, queryset):
    districts = list(queryset.order_by("name"))
    buildings = Building.objects.filter(district__in=districts).order_by(
        "street", "house", "korpus"
    )
    label = ", ".join(district.name for district in districts)
    return _codes_generated(modeladmin, request, buildings, label)


class GeneratesCodes:
    def has_generate_codes_permission(self, request) -> bool:
        return request.user.has_perm("accounts.add_residencycodebatch")


@admin.register(Okrug)
class OkrugAdmin(AuditedModelAdmin):
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
class DistrictAdmin(GeneratesCodes, AuditedModelAdmin):
    list_display = ["name", "okrug", "building_count"]
    list_filter = ["okrug"]
    list_select_related = ["okrug"]
    search_fields = ["name", "okrug__name"]
    autocomplete_fields = ["okrug"]
    actions = [generate_district_codes]

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
class BuildingAdmin(GeneratesCodes, AuditedModelAdmin):
    list_display = ["street", "house", "korpus", "postcode", "apartments", "district"]
    list_filter = ["district__okrug", "district"]
    list_select_related = ["district"]
    search_fields = ["street", "house", "postcode", "district__name"]
    autocomplete_fields = ["district"]
    show_full_result_count = False
    actions = [generate_building_codes]
