"""What the public statistics withhold: counts small enough to tell that a private report
exists.

The statistics count every report, private ones too (a citizen may keep a report out of the
public feed). A narrow query (one category, in one area, over a day) could then answer
"1" where the feed shows nothing, and so reveal that someone reported there privately. The
public answer therefore withholds (null) every count under STATS_MIN_COUNT, zero included (a
zero shown would set apart the nulls that hide a report), and the rates, hours and
satisfaction worked out from such a count; within a breakdown (per agency, category, area,
channel), when a single group's count is withheld, the next smallest one is withheld too, so
that the total less the others does not give it away; a group with every count withheld is
left out of its breakdown, as its presence would tell that it has reports.

What suppression does not prevent: two overlapping queries (a period and the same period
less a day), or the open count before and after a report, whose shown counts differ by less
than STATS_MIN_COUNT. The operations centre's dashboard shows every figure.
"""

from __future__ import annotations

import copy
from typing import Any

COUNTS = ("received", "resolved", "ratings", "open", "overdue")
# The figures worked out from the reports a count counts: withheld with it.
DERIVED = {
    "resolved": ("on_time_rate", "median_resolution_hours", "average_resolution_hours"),
    "ratings": ("satisfaction",),
}
BREAKDOWNS = ("agencies", "categories", "areas", "channels")


def _small(value: int | None, minimum: int) -> bool:
    return value is not None and value < minimum


def _withhold(figures: dict[str, Any], name: str) -> None:
    figures[name] = None
    for derived in DERIVED.get(name, ()):
        figures[derived] = None


def small_counts_withheld(payload: dict[str, Any], *, minimum: int) -> dict[str, Any]:
    """The statistics' payload (insights.api.views.statistics_payload) with the counts under
    `minimum` withheld, as the module's docstring says; a new dict, the payload unchanged."""
    result: dict[str, Any] = copy.deepcopy(dict(payload))
    if minimum <= 1:
        return result
    for kind in BREAKDOWNS:
        groups: list[dict[str, Any]] = result[kind]
        for name in COUNTS:
            small = [group for group in groups if _small(group[name], minimum)]
            if len(small) == 1:
                others = [g for g in groups if g is not small[0]]
                if others:
                    small.append(min(others, key=lambda group: group[name]))
            for group in small:
                _withhold(group, name)
        # A group listed at all would tell that it has reports.
        result[kind] = [g for g in groups if any(g[name] is not None for name in COUNTS)]
    for name in COUNTS:
        if _small(result["city"][name], minimum):
            _withhold(result["city"], name)
    return result
