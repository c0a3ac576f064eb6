"""One long-tail path timed in process, without HTTP: what BENCHMARKS "The long tail" calls
"in process", and how a change is measured before and after when the host's speed drifts.

    .venv/bin/python tests/perf/inprocess.py hues_bench_1m feed_category
    .venv/bin/python tests/perf/inprocess.py hues_bench_10k mine --requests 200 --profile
    .venv/bin/python tests/perf/inprocess.py hues_bench_1m near --sql --health

Before and after a change: run it from a worktree of the old commit and from the new one in
turn (`--root`), a few times each, and compare within the same minutes.

The database is one of tests/perf/run.py's (made by `run.py` or `longtail.py`); the cold URLs
are longtail.py's own (URLS_CODE), made once per database and kept under --work. Production
settings as run.py serves them, the throttles out of reach, the Redis cache emptied first,
Django's test client; a few warm-up requests, then each URL once. `--sql` adds the time of
each statement, `--health` the floor (GET /api/v1/health) and the path's first hot URLs,
`--profile` a cProfile of another slice of URLs.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import longtail  # noqa: E402  # the harness's URLs, beside this file
import run  # noqa: E402

WARM_UP = 30
CACHE_URL = "redis://127.0.0.1:6379/12"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", help="e.g. hues_bench_10k, hues_bench_1m")
    parser.add_argument("path", help="a longtail.py path: detail, feed_category, mine, near...")
    parser.add_argument("--requests", type=int, default=300, help="cold URLs to time")
    parser.add_argument("--root", default=str(run.ROOT), help="the checkout whose code runs")
    work = str(Path(tempfile.gettempdir()) / "hues-inprocess")
    parser.add_argument("--work", default=work, help="where the URLs and media are kept")
    parser.add_argument("--sql", action="store_true", help="time each statement")
    parser.add_argument("--health", action="store_true", help="the floor and hot URLs too")
    parser.add_argument("--profile", action="store_true", help="cProfile, by cumulative time")
    return parser.parse_args()


def setup(args: argparse.Namespace) -> None:
    work = Path(args.work)
    (work / "media").mkdir(parents=True, exist_ok=True)
    env = run.server_env(args.database, work / "media")
    env.update(THROTTLE_ANON_READ="100000000/s", CACHE_URL=CACHE_URL)
    os.environ.update(env)
    sys.path.insert(0, args.root)
    os.chdir(args.root)
    import django

    django.setup()


def urls(args: argparse.Namespace) -> dict[str, Any]:
    kept = Path(args.work) / f"urls-{args.database}.json"
    if not kept.exists():
        made: dict[str, Any] = {"json": json}
        with contextlib.redirect_stdout(io.StringIO()):  # it prints them for longtail.py
            exec(longtail.URLS_CODE % {"urls": 2000}, made)  # noqa: S102  # the harness's code
        kept.write_text(json.dumps(made["out"]))
    return dict(json.loads(kept.read_text()))


def client() -> Callable[[str, str], None]:
    from django.test import Client

    browser = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")

    def get(url: str, token: str) -> None:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = browser.get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")

    return get


def timed(get: Callable[[str, str], None], chosen: list[list[str]]) -> float:
    """Milliseconds per request over `chosen`."""
    started = time.perf_counter()
    for url, token in chosen:
        get(url, token)
    return 1000 * (time.perf_counter() - started) / len(chosen)


@contextlib.contextmanager
def statements() -> Iterator[dict[str, float]]:
    """Seconds spent in each statement (by its first 60 characters) while inside."""
    from django.db import connections

    spent: dict[str, float] = {}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[sql[:60]] = spent.get(sql[:60], 0.0) + time.perf_counter() - started

    with connections["default"].execute_wrapper(wrapper):
        yield spent


def main() -> None:
    args = arguments()
    setup(args)
    from django.core.cache import cache

    found = urls(args)
    cold = found["cold"][args.path]
    n = args.requests
    if len(cold) < WARM_UP + 3 * n:
        raise SystemExit(f"{args.path} has {len(cold)} cold URLs: ask for fewer requests")
    cache.clear()
    get = client()
    for url, token in cold[:WARM_UP]:
        get(url, token)
    # Each slice is new to the cache: the first pages of anonymous paths are cached once read.
    first, second, third = (cold[WARM_UP + k * n : WARM_UP + (k + 1) * n] for k in range(3))
    run.log(f"{args.path}: {timed(get, first):.2f} ms a cold request over {n}")
    if args.sql:
        with statements() as spent:
            total = timed(get, second)
        run.log(f"  {total:.2f} ms a request, of which:")
        for sql, seconds in sorted(spent.items(), key=lambda item: -item[1]):
            run.log(f"  {1000 * seconds / n:8.3f} ms  {sql}")
    if args.health:
        for _ in range(50):
            get("/api/v1/health", "")
        run.log(f"health: {timed(get, [['/api/v1/health', '']] * 500):.2f} ms a request")
        hot = found["hot"][args.path][:5]
        run.log(f"hot {args.path}: {timed(get, hot * 100):.2f} ms a request")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        timed(get, third)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
