"""The city map: okrug → district → building. A resident's home building places them in it."""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Okrug(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("okrug")
        verbose_name_plural = _("okrugs")

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    okrug = models.ForeignKey(
        Okrug, on_delete=models.PROTECT, related_name="districts", verbose_name=_("okrug")
    )
    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    """A residential building; (street, house, korpus) is its address and is unique in the city."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("district")
    )
    street = models.CharField(_("street"), max_length=200)
    house = models.CharField(_("house"), max_length=20)
    korpus = models.CharField(_("building (korpus)"), max_length=20, blank=True)
    postcode = models.CharField(_("postcode"), max_length=6)
    apartments = models.PositiveIntegerField(_("apartments"))

    class Meta:
        ordering = ["street", "house", "korpus"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "house", "korpus"], name="building_unique_address"
            ),
            models.CheckConstraint(
                condition=models.Q(apartments__gte=1), name="building_has_apartments"
            ),
            models.CheckConstraint(
                condition=models.Q(postcode__regex=r"^\d{6}$"), name="building_postcode_six_digits"
            ),
        ]
        indexes = [models.Index(Lower("street"), name="building_street_lower")]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        parts = [self.street, _("h. %(house)s") % {"house": self.house}]
        if self.korpus:
            parts.append(_("bldg. %(korpus)s") % {"korpus": self.korpus})
        return ", ".join(str(part) for part in parts)
