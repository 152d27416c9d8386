from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self):
        """Audit the admins of libraries too (groups, periodic tasks, allauth's): each one
        not built on civic.admin_base.AuditedAdmin is registered again with it mixed in.
        Django's admin has imported every app's admin module by now (its own ready())."""
        from django.contrib import admin

        from civic.admin_base import AuditedAdmin

        for model, model_admin in list(admin.site._registry.items()):
            if not isinstance(model_admin, AuditedAdmin):
                audited = type(
                    f"Audited{type(model_admin).__name__}", (AuditedAdmin, type(model_admin)), {}
                )
                admin.site.unregister(model)
                admin.site.register(model, audited)
