from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports import selectors, services


class Command(BaseCommand):
    help = (
        "Route reports left `submitted` for longer than --older-than seconds, in this process, "
        "without a broker (for cron, or while the broker is down). Safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=120, help="seconds (default 120)")
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args: Any, older_than: int, limit: int, **options: Any) -> None:
        ids = selectors.reports_unrouted(older_than=timedelta(seconds=older_than), limit=limit)
        routed = failed = 0
        for report_id in ids:
            try:
                services.report_route_attempt(report_id=report_id)
            except Exception as error:  # one bad report must not stop the others
                failed += 1
                self.stderr.write(f"Report {report_id}: {error}")
            else:
                routed += 1
        self.stdout.write(f"Pending reports: {len(ids)}; handled {routed}; failed {failed}.")
