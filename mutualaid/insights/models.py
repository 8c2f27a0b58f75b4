"""Insights keep little of their own: where an area is (for the directory's local
provision) and the self-assessment answers given by hand. Everything else is computed
from casework and the directory when a page is asked for (selectors.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """A commissioning area (the `area` of organisations and commissioners) on the map:
    the circle whose meetings count as local provision, and the gap distance N."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    latitude = models.FloatField(_("latitude of the centre"))
    longitude = models.FloatField(_("longitude of the centre"))
    radius_km = models.FloatField(
        _("radius (km)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Meetings within this distance of the centre are local provision."),
    )
    gap_km = models.FloatField(
        _("gap distance N (km)"),
        default=5,
        validators=[MinValueValidator(0.5), MaxValueValidator(50)],
        help_text=_("Places further than this from any meeting are shown as a gap."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return self.name


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Not known")


class SelfAssessment(models.Model):
    """The questions of the mutual aid self-assessment that the directory cannot answer,
    answered by hand: for an area (a commissioner, organisation empty) or for one service
    (its manager). `answers` maps a question key to {"answer": ..., "note": ...}; notes are
    about services and groups, never about a client."""

    area = models.CharField(_("area"), max_length=200)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="self_assessments",
    )
    answers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "organisation"], name="selfassessment_unique_org"
            ),
            models.UniqueConstraint(
                fields=["area"],
                condition=models.Q(organisation__isnull=True),
                name="selfassessment_unique_area",
            ),
        ]
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")

    def __str__(self) -> str:
        return f"{self.area} · {self.organisation or _('whole area')}"
