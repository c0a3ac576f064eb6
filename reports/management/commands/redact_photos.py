"""Back-fill the public renditions of photos stored before the privacy step existed (or left
waiting): `manage.py redact_photos`. In this process, in batches, oldest first; resumable:
each run takes only photos not processed yet, and `--after ID` starts past a given photo
(the last line printed names the last one done)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports import detection, privacy, selectors
from reports.models import Redaction

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Obscure faces and licence plates in stored photos that have no public rendition yet, "
        "in batches, with a progress bar. Safe to stop and run again at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=50, help="photos per batch")
        parser.add_argument("--after", type=int, default=0, help="start past this photo id")
        parser.add_argument(
            "--include-failed", action="store_true", help="also photos whose step failed"
        )

    def handle(
        self, *args: Any, batch_size: int, after: int, include_failed: bool, **options: Any
    ) -> None:
        # Like a worker: no detector, no run (nothing would be published anyway).
        detection.check_detectors()
        pending = selectors.photos_unpublished(after_id=after, include_failed=include_failed)
        total = pending.count()
        done = failed = 0
        last = after
        started = time.monotonic()
        while True:
            batch = list(
                selectors.photos_unpublished(
                    after_id=last, include_failed=include_failed
                ).values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            for photo_id in batch:
                try:
                    photo = privacy.photo_redact(photo_id=photo_id)
                except Exception as error:  # one bad photo must not stop the others
                    privacy.photo_redaction_failed(photo_id=photo_id, error=repr(error))
                    failed += 1
                    self.stderr.write(f"Photo {photo_id}: {error!r}")
                else:
                    if photo is not None and photo.redaction == Redaction.DONE:
                        done += 1
                    else:
                        failed += 1
                last = photo_id
                self._progress(done + failed, total, started)
        self.stdout.write(f"\nPhotos: {total}; obscured {done}; failed {failed}; last id {last}.")

    def _progress(self, count: int, total: int, started: float) -> None:
        share = count / total if total else 1.0
        filled = round(BAR_WIDTH * share)
        rate = count / max(time.monotonic() - started, 1e-6)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        end = "\r" if self.stdout.isatty() else "\n"
        self.stdout.write(f"[{bar}] {count}/{total} {rate:.1f}/s", ending=end)
        if self.stdout.isatty():
            sys.stdout.flush()
