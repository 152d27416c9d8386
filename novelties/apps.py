from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoveltiesConfig(AppConfig):
    name = "novelties"
    verbose_name = _("City novelties")
