"""The long tail (issue 17): every read path measured hot and cold, beside the floor.

    .venv/bin/python tests/perf/longtail.py                  # 10,000 and 1,000,000 reports
    .venv/bin/python tests/perf/longtail.py --sizes 10000 --urls 2000 --seconds 5   # smoke

Hot is a small set of URLs (as tests/perf/run.py measures): after the first second every
answer comes from the cache. Cold is what 1.3 million people do: at least 10,000 distinct
URLs per path (a report's link from a chat group, the feed filtered by a ward and a category
at some page, a citizen's own reports, a place, a word, an Open311 query, a statistics
filter), each requested once in turn, so that almost every request misses the cache. The
cache hit rate of each run is read from the server's own /metrics (hues_cache_lookups) and
printed beside the figure. Each figure is a share of GET /api/v1/health measured just before
and just after it in the same run, with p50 and p99 latency.

Production settings as run.py serves them: gunicorn (3 workers), DEBUG off, PostgreSQL with
the default connection settings, the Redis cache; the throttles run at rates the load never
reaches. Pages go a random depth into each filter (a keyset cursor at a real row), as a
citizen scrolling does. Results: tests/perf/results/longtail-<time>.json and the latest in
results/latest-longtail.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # the harness's helpers, beside this file

URLS_DEFAULT = 10_000

COLD_LUA = """
local requests = {%(items)s}
local i = 0
-- Many clients behind the proxy, each with its own throttle history.
request = function()
  i = i %% #requests + 1
  local r = requests[i]
  local headers = {["X-Forwarded-Proto"] = "https"}
  headers["X-Forwarded-For"] = "203.0.113." .. math.random(1, 250)
  if r[2] ~= "" then headers["Authorization"] = "Bearer " .. r[2] end
  return wrk.format("GET", r[1], headers)
end
"""

# Runs inside Django against the benchmark database: the URLs of each path, hot and cold.
URLS_CODE = r"""
import random
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import User
from hues.pagination import Cursor
from reports.api.pagination import ReportPagination

N = %(urls)d
rng = random.Random(17)
pager = ReportPagination()
pager.ordering = (("id", True),)

def cursor(row_id):
    # The page that starts at this row: the feed is newest first, a page resumes below it.
    return pager.encode_cursor(Cursor((row_id + 1,), False))

def rows(sql, params=()):
    with connection.cursor() as c:
        c.execute(sql, params)
        return c.fetchall()

PUBLIC = ("r.is_public AND r.hidden_at IS NULL AND r.status NOT IN ('submitted', 'merged') "
          "AND r.duplicate_of_id IS NULL")
total = rows("SELECT max(id) FROM reports_report")[0][0]

def sample(where, n, columns="r.id"):
    # n rows of the public reports matching `where`, spread over the table by id.
    got, tries = [], 0
    while len(got) < n and tries < 8:
        tries += 1
        ids = [rng.randint(1, total) for _ in range(min(4 * (n - len(got)) + 50, 200000))]
        got += rows(
            f"SELECT {columns} FROM reports_report r "
            f"LEFT JOIN reports_category c ON c.id = r.category_id "
            f"LEFT JOIN reports_area a ON a.id = r.area_id "
            f"LEFT JOIN reports_agency g ON g.id = r.agency_id "
            f"WHERE r.id = ANY(%%s) AND {PUBLIC} AND {where}",
            [ids],
        )
    return got[:n]

out = {"hot": {}, "cold": {}}
detail = sample("TRUE", N, "r.reference")
out["cold"]["detail"] = [[f"/api/v1/reports/{ref}", ""] for (ref,) in detail]
out["hot"]["detail"] = out["cold"]["detail"][:300]

def feed(name, column, param):
    picked = sample("TRUE", N, f"r.id, {column}")
    urls = [[f"/api/v1/reports?{param}={value}&cursor={cursor(row_id)}", ""]
            for row_id, value in picked if value is not None]
    out["cold"][name] = urls
    values = sorted({value for _, value in picked if value is not None})[:10]
    out["hot"][name] = [[f"/api/v1/reports?{param}={value}", ""] for value in values]

feed("feed_category", "c.code", "category")
feed("feed_area", "a.code", "area")
feed("feed_agency", "g.code", "agency")
feed("feed_status", "r.status", "status")
picked = sample("TRUE", N, "r.id, c.code, a.code")
out["cold"]["feed_category_area"] = [
    [f"/api/v1/reports?category={cat}&area={area}&cursor={cursor(row_id)}", ""]
    for row_id, cat, area in picked]
out["hot"]["feed_category_area"] = [
    [f"/api/v1/reports?category={cat}&area={area}", ""] for _, cat, area in picked[:10]]

# mine=true: 3,000 citizens, each their first page and pages further down.
citizens = rows("SELECT id FROM accounts_user WHERE role = 'citizen' AND id IN "
                "(SELECT DISTINCT reporter_id FROM reports_report) ORDER BY id LIMIT 3000")
tokens = {uid: str(AccessToken.for_user(User(id=uid))) for (uid,) in citizens}
mine = [[f"/api/v1/reports?mine=true", tokens[uid]] for uid in tokens]
deeper = rows("SELECT reporter_id, id FROM reports_report WHERE reporter_id = ANY(%%s) "
              "ORDER BY random() LIMIT %%s", [list(tokens), max(0, N - len(mine))])
mine += [[f"/api/v1/reports?mine=true&cursor={cursor(row_id)}", tokens[uid]]
         for uid, row_id in deeper]
rng.shuffle(mine)
out["cold"]["mine"] = mine
out["hot"]["mine"] = [[f"/api/v1/reports?mine=true", tokens[uid]] for uid in list(tokens)[:10]]

points = sample("TRUE", N, "r.lat, r.lng")
out["cold"]["near"] = [
    [f"/api/v1/reports?near={lat + rng.uniform(-0.002, 0.002):.5f},"
     f"{lng + rng.uniform(-0.002, 0.002):.5f}", ""] for lat, lng in points]
out["hot"]["near"] = [[f"/api/v1/reports?near={lat:.4f},{lng:.4f}", ""]
                      for lat, lng in points[:100]]

# q: words of the reports' own text, alone and within a ward.
texts = sample("TRUE", 3000, "r.description, a.code")
words = set()
for text, _ in texts:
    tokens_ = [w.strip(".,;:!?()\"'").lower() for w in text.split()]
    tokens_ = [w for w in tokens_ if len(w) >= 3]
    words.update(tokens_)
    words.update(" ".join(pair) for pair in zip(tokens_, tokens_[1:]))
words = sorted(words)
areas = sorted({area for _, area in texts if area})
queries = set()
while len(queries) < N and len(queries) < len(words) * (len(areas) + 1):
    word = rng.choice(words)
    queries.add((word, rng.choice(areas) if rng.random() < 0.7 else ""))
from urllib.parse import quote
out["cold"]["q"] = [[f"/api/v1/reports?q={quote(w)}" + (f"&area={a}" if a else ""), ""]
                    for w, a in sorted(queries)]
rng.shuffle(out["cold"]["q"])
out["hot"]["q"] = [[f"/api/v1/reports?q={quote(w)}", ""] for w in words[:12]]

# Open311: requests.json by service code, status and a window of dates; and one request.
codes = [code for (code,) in rows("SELECT code FROM reports_category WHERE is_active")]
latest = rows("SELECT max(created_at) FROM reports_report")[0][0]
o311 = set()
while len(o311) < N:
    end = latest - timedelta(days=rng.randint(0, 360), hours=rng.randint(0, 23))
    start = end - timedelta(days=rng.choice((1, 3, 7, 14, 30, 60, 90)))
    parts = [f"start_date={start:%%Y-%%m-%%dT%%H:00:00Z}", f"end_date={end:%%Y-%%m-%%dT%%H:00:00Z}"]
    if rng.random() < 0.8:
        parts.append(f"service_code={rng.choice(codes)}")
    if rng.random() < 0.5:
        parts.append(f"status={rng.choice(('open', 'closed'))}")
    o311.add("&".join(parts))
out["cold"]["open311_list"] = [[f"/open311/v2/requests.json?{p}", ""] for p in sorted(o311)]
rng.shuffle(out["cold"]["open311_list"])
out["hot"]["open311_list"] = [[f"/open311/v2/requests.json?service_code={c}", ""] for c in codes]
out["cold"]["open311_single"] = [[f"/open311/v2/requests/{ref}.json", ""] for (ref,) in detail]
out["hot"]["open311_single"] = out["cold"]["open311_single"][:300]

# Statistics: a period (up to 92 days) by category, agency or area, or none.
agencies = [code for (code,) in rows("SELECT code FROM reports_agency WHERE is_active")]
area_codes = [code for (code,) in rows("SELECT code FROM reports_area")]
today = timezone.localdate()
stats = set()
while len(stats) < N:
    last = today - timedelta(days=rng.randint(0, 700))
    first = last - timedelta(days=rng.randint(0, 91))
    parts = [f"date_from={first.isoformat()}", f"date_to={last.isoformat()}"]
    kind = rng.random()
    if kind < 0.3:
        parts.append(f"category={rng.choice(codes)}")
    elif kind < 0.6:
        parts.append(f"area={rng.choice(area_codes)}")
    elif kind < 0.8:
        parts.append(f"agency={rng.choice(agencies)}")
    stats.add("&".join(parts))
out["cold"]["stats"] = [[f"/api/v1/stats?{p}", ""] for p in sorted(stats)]
rng.shuffle(out["cold"]["stats"])
out["hot"]["stats"] = [["/api/v1/stats", ""], ["/api/v1/stats?category=garbage", ""]]
print(json.dumps(out))
"""


def cache_counts(base: str) -> dict[str, float]:
    """hues_cache_lookups_total by result, summed over caches (the server's /metrics, read
    from loopback)."""
    import httpx

    text = httpx.get(f"{base}/metrics", timeout=30).text
    counts = {"hit": 0.0, "miss": 0.0}
    for match in re.finditer(r"^hues_cache_lookups_total\{([^}]*)\}\s+([\d.e+]+)$", text, re.M):
        result = re.search(r'result="(\w+)"', match.group(1))
        if result and result.group(1) in counts:
            counts[result.group(1)] += float(match.group(2))
    return counts


def drive(base: str, items: list[list[str]], *, seconds: int, connections: int) -> dict[str, Any]:
    """wrk over `items` ([path, token]) in turn, one request each until they run out."""
    lua = COLD_LUA % {"items": ", ".join(f"{{{json.dumps(p)}, {json.dumps(t)}}}" for p, t in items)}
    return run.wrk_script(base, lua, seconds=seconds, connections=connections)


def check(base: str, items: list[list[str]], name: str) -> None:
    """A few of the URLs answer 200 (a 4xx would be measured as fast nonsense)."""
    import httpx

    for path, token in items[:: max(1, len(items) // 5)][:5]:
        headers = {**run.PROXY_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
        answer = httpx.get(base + path, headers=headers, timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: GET {path}: {answer.status_code} {answer.text[:300]}")


def measure(
    base: str, name: str, items: list[list[str]], args: argparse.Namespace, cold: bool
) -> dict[str, Any]:
    health = [["/api/v1/health", ""]]
    before = drive(base, health, seconds=max(2, args.seconds // 2), connections=args.connections)
    check(base, items, name)
    if cold:
        run.redis_flush()  # the checks above, and earlier paths, leave nothing warm
    counts = cache_counts(base)
    result = drive(base, items, seconds=args.seconds, connections=args.connections)
    after_counts = cache_counts(base)
    after = drive(base, health, seconds=max(2, args.seconds // 2), connections=args.connections)
    hits = after_counts["hit"] - counts["hit"]
    misses = after_counts["miss"] - counts["miss"]
    floor = (before["rps"] + after["rps"]) / 2
    result.update(
        urls=len(items),
        health_rps=floor,
        share=result["rps"] / floor if floor else 0.0,
        hit_rate=hits / (hits + misses) if hits + misses else None,
    )
    hit = "   n/a" if result["hit_rate"] is None else f"{result['hit_rate']:6.1%}"
    run.log(
        f"  {'cold' if cold else 'hot ':4} {name:19} {result['rps']:8.1f} req/s  "
        f"share {result['share']:5.2f}  p50 {result['p50_ms']:7.2f} ms  "
        f"p99 {result['p99_ms']:7.2f} ms  cache hits {hit}  urls {len(items):6}  "
        f"errors {result['errors']}"
    )
    return result


def measure_size(size: int, args: argparse.Namespace, media: Path, logs: Path) -> dict[str, Any]:
    database = run.ensure_database(size, media)
    run.redis_flush()
    env = run.server_env(database, media, workers=args.workers)
    if args.conn_max_age is not None:
        env["CONN_MAX_AGE"] = args.conn_max_age
    else:
        env.pop("CONN_MAX_AGE", None)  # the product's default, not the harness's
    started = time.monotonic()
    # The daily figures as the nightly roll-up keeps them in production (beat): past days
    # of the statistics are read from them, not counted again from a million reports.
    days = run.django_eval(env, "from insights import rollup\nprint(json.dumps(rollup.refresh()))")
    run.log(
        f"[{database}] daily figures: {days} days counted in {time.monotonic() - started:.0f} s"
    )
    started = time.monotonic()
    urls = run.django_eval(env, URLS_CODE % {"urls": args.urls})
    run.log(f"[{database}] URLs made in {time.monotonic() - started:.0f} s")
    port = run.free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = [str(run.ROOT / ".venv" / "bin" / "gunicorn"), "-c", "python:hues.gunicorn"]
    gunicorn += ["hues.wsgi", "--bind"]
    gunicorn += [f"127.0.0.1:{port}", "--workers", str(args.workers)]
    gunicorn += ["--access-logfile", "/dev/null"]
    out: dict[str, Any] = {"database": database, "size": size, "hot": {}, "cold": {}}
    paths = [p for p in urls["cold"] if not args.paths or p in args.paths.split(",")]
    with run.process(gunicorn, env, logs / f"longtail-gunicorn-{size}.log"):
        run.wait_http(f"{base}/api/v1/health")
        run.log(f"[{database}] gunicorn {args.workers} workers, wrk -c{args.connections}:")
        for name in paths:
            out["hot"][name] = measure(base, name, urls["hot"][name], args, cold=False)
            out["cold"][name] = measure(base, name, urls["cold"][name], args, cold=True)
    return out


def summary(results: dict[str, Any]) -> list[str]:
    sizes = sorted(results["sizes"], key=int)
    lines = [
        "| path | size | hot share | cold share | cold p50 ms | cold p99 ms | cold hit rate |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in results["sizes"][sizes[0]]["cold"]:
        for size in sizes:
            run_ = results["sizes"][size]
            hot, cold = run_["hot"].get(name, {}), run_["cold"].get(name, {})
            rate = cold.get("hit_rate")
            lines.append(
                f"| {name} | {int(size):,} | {hot.get('share', 0):.2f} | "
                f"{cold.get('share', 0):.2f} | {cold.get('p50_ms', 0):.1f} | "
                f"{cold.get('p99_ms', 0):.1f} | {'n/a' if rate is None else f'{rate:.1%}'} |"
            )
    if len(sizes) > 1:
        lines += ["", "Growth of the cold p50 from the smallest size to the largest:"]
        small, large = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
        for name in large["cold"]:
            a, b = small["cold"][name]["p50_ms"], large["cold"][name]["p50_ms"]
            lines.append(f"- {name}: {b / a:.2f}x" if a else f"- {name}: n/a")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated report counts")
    parser.add_argument("--urls", type=int, default=URLS_DEFAULT, help="distinct cold URLs/path")
    parser.add_argument("--seconds", type=int, default=15, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--paths", default="", help="comma-separated paths (default: all)")
    parser.add_argument(
        "--conn-max-age", default=None, help="CONN_MAX_AGE for the server (default: the product's)"
    )
    args = parser.parse_args()
    media = Path(tempfile.mkdtemp(prefix="hues-longtail-"))
    logs = run.RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "machine": run.machine(),
        "args": vars(args),
        "sizes": {},
    }
    for size in (int(s) for s in args.sizes.split(",")):
        results["sizes"][str(size)] = measure_size(size, args, media, logs)
    results["finished"] = datetime.now(UTC).isoformat()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    text = json.dumps(results, indent=2)
    (run.RESULTS / f"longtail-{stamp}.json").write_text(text)
    (run.RESULTS / "latest-longtail.json").write_text(text)
    sys.stdout.write("\n".join(summary(results)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
