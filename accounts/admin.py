from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "home_building", "birth_year", "gender", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "gender", "language"]
    list_select_related = ["home_building"]
    search_fields = [
        "email",
        "first_name",
        "last_name",
        "home_building__street",
        "home_building__postcode",
        "home_building__district__name",
    ]
    autocomplete_fields = ["home_building"]
    readonly_fields = ["home_building_changed_at", "last_login", "date_joined"]
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "birth_year", "gender", "language")},
        ),
        (_("Home"), {"fields": ("home_building", "apartment", "home_building_changed_at")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
