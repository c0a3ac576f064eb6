"""The timeline of a generated report, from the lifecycle's own transitions.

A generated report's row records its status and the time of each step (routed_at,
accepted_at, resolved_at, closed_at); its timeline follows from the row. Each `Step` names
the transition of `reports.lifecycle.TRANSITIONS` it records and the status it leaves: the
event's kind, target status and visibility come from the transition itself, and a step whose
transition may not leave that status fails at import. What this module adds is only what the
row says: which steps a report went through and when.

The same steps render two ways: in Python for a report's row (`events_of`, any database),
and as SQL that derives every report's events at once (`events_sql`, PostgreSQL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reports.lifecycle import TRANSITIONS
from reports.models import Event, ReportStatus

S = ReportStatus
K = Event.Kind

UPDATE_MESSAGES = ("Đơn vị đã tiếp nhận và cử người kiểm tra hiện trường.", "Đang xử lý.")
RESOLVED_MESSAGES = ("Đã xử lý xong.", "Đã khắc phục, mời người dân kiểm tra lại.")
REJECTED_MESSAGES = ("Phản ánh không thuộc thẩm quyền.", "Trùng với phản ánh đã có.")


# Conditions on the report's row: the column is set, is empty, or holds a value; or the
# report is one in `every` by id (below `share` of them).


@dataclass(frozen=True)
class Set:
    column: str


@dataclass(frozen=True)
class Unset:
    column: str


@dataclass(frozen=True)
class Is:
    column: str
    value: str


@dataclass(frozen=True)
class Sampled:
    every: int
    share: int


Condition = Set | Unset | Is | Sampled


# When a step happened: a column of the row (plus a second, for a step the same instant as
# the one before it), or halfway between two columns (the second falling back to a third).


@dataclass(frozen=True)
class At:
    column: str
    plus_seconds: int = 0


@dataclass(frozen=True)
class Midway:
    start: str
    end: str
    fallback: str


@dataclass(frozen=True)
class Step:
    transition: str | None  # a name in TRANSITIONS; None for the filing itself
    source: str  # the status the report is in before the step ("" for the filing)
    when: tuple[Condition, ...]
    at: At | Midway
    by_reporter: bool = False  # the citizen acts (filing, rating); otherwise no actor
    messages: tuple[str, ...] = ()  # one, chosen by the report's id
    data: dict[str, Any] | None = None
    stars: bool = False  # the event's data carries the report's rating

    @property
    def kind(self) -> str:
        return K.CREATED if self.transition is None else TRANSITIONS[self.transition].event

    @property
    def target(self) -> str:
        if self.transition is None:
            return S.SUBMITTED
        return TRANSITIONS[self.transition].target or self.source

    @property
    def public(self) -> bool:
        return self.transition is None or TRANSITIONS[self.transition].public


STEPS: tuple[Step, ...] = (
    Step(None, "", (), At("created_at"), by_reporter=True),
    Step(
        "send_to_triage",
        S.SUBMITTED,
        (Is("status", S.NEEDS_TRIAGE),),
        At("created_at", plus_seconds=1),
        data={"reason": "no_rule"},
    ),
    Step("route", S.SUBMITTED, (Set("routed_at"),), At("routed_at"), data={"reason": "rule"}),
    Step("accept", S.ROUTED, (Set("accepted_at"),), At("accepted_at")),
    Step(
        "public_update",
        S.IN_PROGRESS,
        (Set("accepted_at"), Sampled(every=5, share=2)),
        Midway("accepted_at", "resolved_at", fallback="updated_at"),
        messages=UPDATE_MESSAGES,
    ),
    Step(
        "resolve",
        S.IN_PROGRESS,
        (Set("resolved_at"),),
        At("resolved_at"),
        messages=RESOLVED_MESSAGES,
    ),
    Step(
        "rate",
        S.RESOLVED,
        (Is("status", S.CLOSED), Set("rating")),
        At("closed_at"),
        by_reporter=True,
        stars=True,
    ),
    Step(
        "close",
        S.RESOLVED,
        (Is("status", S.CLOSED), Unset("rating")),
        At("closed_at"),
        data={"auto": True},
    ),
    Step(
        "reject",
        S.ROUTED,
        (Is("status", S.REJECTED),),
        At("closed_at"),
        messages=REJECTED_MESSAGES,
        data={"reason": "invalid"},
    ),
)

for _step in STEPS:
    if _step.transition is not None and _step.source not in TRANSITIONS[_step.transition].sources:
        raise ValueError(f"{_step.transition} cannot leave {_step.source} (reports.lifecycle).")

EVENT_COLUMNS = (
    "report",
    "kind",
    "actor",
    "from_status",
    "to_status",
    "message",
    "is_public",
    "data",
    "created_at",
)


# In Python, for one report's row (a mapping of its columns).


def _holds(condition: Condition, row: dict[str, Any]) -> bool:
    if isinstance(condition, Set):
        return row[condition.column] is not None
    if isinstance(condition, Unset):
        return row[condition.column] is None
    if isinstance(condition, Is):
        return row[condition.column] == condition.value
    return row["id"] % condition.every < condition.share


def _moment(at: At | Midway, row: dict[str, Any]) -> datetime:
    if isinstance(at, At):
        return row[at.column] + timedelta(seconds=at.plus_seconds)
    start = row[at.start]
    end = row[at.end] if row[at.end] is not None else row[at.fallback]
    return start + (end - start) / 2


def _data(step: Step, row: dict[str, Any]) -> str:
    if step.stars:
        return json.dumps({"stars": row["rating"]})
    return json.dumps(step.data or {})


def events_of(row: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The events of one report, in EVENT_COLUMNS order, oldest first."""
    events = []
    for step in STEPS:
        if not all(_holds(condition, row) for condition in step.when):
            continue
        events.append(
            (
                row["id"],
                step.kind,
                row["reporter"] if step.by_reporter else None,
                step.source,
                step.target,
                step.messages[row["id"] % len(step.messages)] if step.messages else "",
                step.public,
                _data(step, row),
                _moment(step.at, row),
            )
        )
    return events


# In SQL, for every report of a range at once.


def _sql_condition(condition: Condition, params: dict[str, Any]) -> str:
    if isinstance(condition, Set):
        return f"{condition.column} IS NOT NULL"
    if isinstance(condition, Unset):
        return f"{condition.column} IS NULL"
    if isinstance(condition, Is):
        name = f"is_{condition.column}_{condition.value}"
        params[name] = condition.value
        return f"{condition.column} = %({name})s"
    return f"id %% {condition.every:d} < {condition.share:d}"


def _sql_moment(at: At | Midway) -> str:
    if isinstance(at, At):
        return f"{at.column} + interval '{at.plus_seconds:d} second'"
    return f"{at.start} + (coalesce({at.end}, {at.fallback}) - {at.start}) / 2"


def events_sql(report_table: str, event_table: str, columns: list[str]) -> tuple[str, dict]:
    """One INSERT ... SELECT of every step's events for the reports with ids between
    %(first)s and %(last)s (parameters the caller adds), and its parameters. `columns` are
    the event table's columns in EVENT_COLUMNS order. Column names come from the steps
    above and the models; every value is a parameter."""
    params: dict[str, Any] = {}
    selects = []
    for number, step in enumerate(STEPS):
        where = ["id BETWEEN %(first)s AND %(last)s"]
        where += [_sql_condition(condition, params) for condition in step.when]
        params |= {
            f"kind_{number}": step.kind,
            f"source_{number}": step.source,
            f"target_{number}": step.target,
            f"public_{number}": step.public,
            f"data_{number}": json.dumps(step.data or {}),
            f"messages_{number}": list(step.messages) or [""],
        }
        actor = "reporter_id" if step.by_reporter else "NULL::bigint"
        data = """('{"stars": ' || rating || '}')::jsonb""" if step.stars else None
        messages = f"%(messages_{number})s::text[]"
        selects.append(
            f"SELECT id, %(kind_{number})s, {actor}, %(source_{number})s, "  # noqa: S608
            f"%(target_{number})s, ({messages})[id %% cardinality({messages}) + 1], "
            f"%(public_{number})s, {data or f'%(data_{number})s::jsonb'}, "
            f"{_sql_moment(step.at)} FROM {report_table} WHERE {' AND '.join(where)}"
        )
    insert = f"INSERT INTO {event_table} ({', '.join(columns)}) " + " UNION ALL ".join(selects)
    return insert, params
