"""Admin base classes shared by the apps."""

from django.contrib import admin


class NoAddOrDeleteAdmin(admin.ModelAdmin):
    """Rows another part of the platform creates (a service, an admin action) and that are
    kept for the record: staff may look and, where a subclass allows, decide — never add or
    delete."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoAddOrDeleteAdmin):
    """A log or a ledger: shown, never edited."""

    def has_change_permission(self, request, obj=None):
        return False
