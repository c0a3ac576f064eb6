"""The daily sums the statistics add up. The tables are the ones these models had in the
reports app (`reports_dailyfigures`, `reports_dailyfiguresstate`): they moved here without
copying a row (migration 0001 is state-only)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyFigures(models.Model):
    """The sums the statistics add up, per day in the city's time, category, agency and area:
    reports filed that day, and reports resolved that day (as insights.stats defines them),
    with their deadlines, ratings and hours to resolution. insights.rollup keeps them: it
    counts again each day a changed report touches. The statistics read them for the days
    before today and count today from the reports themselves."""

    day = models.DateField(_("day"))
    category = models.ForeignKey("reports.Category", on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(
        "reports.Agency", null=True, on_delete=models.CASCADE, related_name="+"
    )
    area = models.ForeignKey("reports.Area", null=True, on_delete=models.CASCADE, related_name="+")
    received = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    with_deadline = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    hours_sum = models.FloatField(default=0.0)

    class Meta:
        db_table = "reports_dailyfigures"
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")
        indexes = [models.Index(fields=["day"], name="dailyfigures_day")]

    def __str__(self) -> str:
        return f"{self.day}:{self.category_id}:{self.agency_id}:{self.area_id}"


class DailyFiguresState(models.Model):
    """One row: the moment up to which insights.rollup has counted the changed reports."""

    counted_until = models.DateTimeField()

    class Meta:
        db_table = "reports_dailyfiguresstate"
        verbose_name = _("daily figures state")
        verbose_name_plural = _("daily figures state")

    def __str__(self) -> str:
        return f"{self.counted_until}"
