"""PostgreSQL read replicas: the router, and the one helper that sends a read to a replica.

With DATABASE_REPLICA_URLS set, settings add the aliases `replica_1`, `replica_2`, ... and
this router. Writes and migrations go to the primary (`default`), and so does every read that
does not ask for a replica: `db_for_read` has no opinion, so Django reads from `default`, or
from the database the instance in hand came from. A citizen who just filed, staff in the
admin, Celery tasks and every write path therefore read their own writes.

Only the public reads that a replica's lag (usually well under a second) cannot mislead ask
for one, with `.using(replica())` in their selectors: the public feed, the public statistics
and Open311's lists. Objects they load remember their database, so prefetches and related
lookups follow them to the same replica; saving one still writes to the primary.
"""

from __future__ import annotations

import random
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_PREFIX = "replica_"


def replica_aliases() -> list[str]:
    """The configured replicas' aliases (none: the primary serves every read)."""
    return [alias for alias in connections if alias.startswith(REPLICA_PREFIX)]


def replica() -> str:
    """A replica for one read, chosen at random per call; `default` when there is none."""
    aliases = replica_aliases()
    if not aliases:
        return DEFAULT_DB_ALIAS
    return random.choice(aliases)  # noqa: S311  # spreading load, not a secret


class PrimaryReplicaRouter:
    """The primary takes writes and migrations; replicas answer only the reads sent there."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return None  # the instance's database, else the primary: never a replica by accident

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        """The primary and its replicas hold the same rows."""
        group = {DEFAULT_DB_ALIAS, *replica_aliases()}
        if obj1._state.db in group and obj2._state.db in group:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        return db == DEFAULT_DB_ALIAS
