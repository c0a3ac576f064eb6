# ruff: noqa: S608 - the SQL here is built from the harness's own integers and constants.
"""The performance harness (issue #6): one command, figures printed and written.

    .venv/bin/python tests/perf/run.py            # 10,000 and 1,000,000 reports
    .venv/bin/python tests/perf/run.py --quick    # a smoke run: 2,000 and 20,000, short loads

For each data size it makes (or reuses) a PostgreSQL database `hues_bench_<size>` filled by
tests/perf/generate.py, serves the project with gunicorn in production settings
(DEBUG off, persistent connections, Redis cache) on a free loopback port, and drives it with
wrk over loopback for a bounded time per endpoint. Every target is a ratio within one run:
throughput against GET /api/v1/health (the floor), and median latency at the large size
against the small one. It also measures the photo pipeline against decoding in the same
process, one Celery worker routing a burst, and the RSS of the API and worker processes.

Only loopback addresses are used; every process it starts is stopped before it returns.
Needs PostgreSQL and Redis (BENCH_PG, BENCH_REDIS below) and wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = Path(__file__).resolve().parent / "results"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
BROKER_DB = os.environ.get("BENCH_BROKER_DB", "10")
CACHE_DB = os.environ.get("BENCH_CACHE_DB", "11")
HEAVY_PHONE = "+84981000000"  # the first generated citizen: exactly 50 reports
FILER_PHONE = "+84981000001"
# Hue's centre (Phú Xuân, the citadel) and places around it, for `near`.
CENTRE = (16.4637, 107.5909)
WORDS = ["den", "rac", "ngap", "o ga", "le loi", "cay xanh", "duong", "via he", "hung vuong"]


def log(message: str) -> None:
    print(message, flush=True)  # noqa: T201


def server_env(database: str, media: Path, workers: int = 2) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key-0123456789abcdef0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"{PG}/{database}",
        CACHE_URL=f"{REDIS}/{CACHE_DB}",
        CELERY_BROKER_URL=f"{REDIS}/{BROKER_DB}",
        MEDIA_ROOT=str(media),
        SMS_BACKEND="file",
        SMS_FILE_DIR=str(media / "sms"),
        LOG_LEVEL="WARNING",
        JWT_ACCESS_MINUTES="240",
        # The rates of production would stop a load test after 120 requests: the throttles
        # still run (a Redis read and write each), at rates the load never reaches, over one
        # second, so that the history DRF keeps per client stays as short as a real client's.
        THROTTLE_ANON="100000000/s",
        THROTTLE_USER="100000000/s",
        THROTTLE_REPORT_CREATE="100000000/s",
        THROTTLE_REPORT_CREATE_IP="100000000/s",
        WEB_CONCURRENCY=str(workers),
        DJANGO_SETTINGS_MODULE="hues.settings",
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def psql(database: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", f"{PG}/{database}", "-XAtqc", sql], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def redis_flush() -> None:
    """Empty this harness's own Redis databases (never any other)."""
    import redis

    for db in (BROKER_DB, CACHE_DB):
        redis.Redis.from_url(f"{REDIS}/{db}").flushdb()


def db_name(size: int) -> str:
    """hues_bench_10k, hues_bench_1m, hues_bench_2500."""
    for unit, label in ((1_000_000, "m"), (1000, "k")):
        if size % unit == 0:
            return f"hues_bench_{size // unit}{label}"
    return f"hues_bench_{size}"


def ensure_database(size: int, media: Path) -> str:
    """The database (db_name) holding exactly the `size` generated reports (ids 1..size);
    made with migrate + tests/perf/generate.py when missing or different, kept for reruns."""
    name = db_name(size)
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists:
        try:
            have = psql(name, f"SELECT count(*) FROM reports_report WHERE id <= {size}")
            heavy = psql(name, f"SELECT count(*) FROM accounts_user WHERE phone = '{HEAVY_PHONE}'")
        except subprocess.CalledProcessError:
            have, heavy = "0", "0"
        if have == str(size) and heavy == "1":
            log(f"[{name}] reusing: {size} reports (migrating, in case).")
            env = server_env(name, media)
            subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            return name
        psql("postgres", f"DROP DATABASE {name}")
    psql("postgres", f"CREATE DATABASE {name}")
    env = server_env(name, media)
    log(f"[{name}] migrate...")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "tests/perf/generate.py", "--count", str(size)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=3600,
    )
    log(f"[{name}] generated {size} reports in {time.monotonic() - started:.0f} s.")
    return name


def django_eval(env: dict[str, str], code: str) -> Any:
    """Run Python with Django set up against the benchmark database; it prints JSON."""
    script = "import django, json\ndjango.setup()\n" + code
    out = subprocess.run(
        [PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], logfile: Path) -> Iterator[subprocess.Popen]:
    with logfile.open("w") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB of one process."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def wait_http(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
%(headers)s
-- Many clients, as the proxy reports them (X-Forwarded-For, documentation addresses that are
-- only header text): each has its own throttle history, as real users do.
request = function()
  i = i %% #paths + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["X-Forwarded-For"] = "203.0.113." .. math.random(1, 250)
  return wrk.format("GET", paths[i], headers)
end
"""


# As the TLS proxy in front of gunicorn says it (production redirects plain HTTP).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def check_ok(base: str, paths: list[str], headers: dict[str, str]) -> None:
    """Each endpoint answers 200 before it is measured (wrk counts a 3xx as a success)."""
    import httpx

    for path in paths[:3]:
        answer = httpx.get(base + path, headers=headers, timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")


def wrk(
    base: str, paths: list[str], *, seconds: int, connections: int, headers: dict[str, str] | None
) -> dict[str, Any]:
    """Drive GETs of `paths` (in turn) for `seconds`: requests/s, latency percentiles (ms),
    and the count of non-2xx answers and socket errors."""
    headers = {**PROXY_HEADERS, **(headers or {})}
    check_ok(base, paths, headers)
    lua = WRK_SCRIPT % {
        "paths": ", ".join(json.dumps(p) for p in paths),
        "headers": "\n".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items()
        ),
    }
    return wrk_script(base, lua, seconds=seconds, connections=connections)


def wrk_script(base: str, lua: str, *, seconds: int, connections: int) -> dict[str, Any]:
    """Run wrk with the Lua script `lua` for `seconds`: its figures (parse_wrk)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            [
                *("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"),
                *("--timeout", "10s", "-s", script.name, base),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, Any]:
    """requests/s, latency percentiles (ms), and the count of non-2xx answers and socket
    errors, from wrk's --latency report."""

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    requests = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(requests.group(1)) if requests else 0,
        "p50_ms": latency("50%"),
        "p90_ms": latency("90%"),
        "p99_ms": latency("99%"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else "",
    }


def phone_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A 12-megapixel JPEG that compresses like a phone photo (smooth areas and texture),
    with an EXIF orientation to apply, as cameras write it."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(12)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            128 + 90 * np.sin(x / 370) * np.cos(y / 290),
            120 + 80 * np.cos(x / 510 + y / 430),
            110 + 70 * np.sin((x + y) / 650),
        ],
        axis=-1,
    )
    noise = rng.normal(0, 14, (height, width, 3)).astype(np.float32)
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "BenchPhone"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88, exif=exif.tobytes())
    return buffer.getvalue()


def scenarios(env: dict[str, str], database: str, size: int) -> dict[str, list[str]]:
    """The URL paths of each endpoint: a rotation of real references, points and words."""
    sample = max(1, size // 300)
    references = psql(
        database,
        f"SELECT reference FROM reports_report WHERE is_public AND id % {sample} = 0 "
        f"AND id <= {size} ORDER BY id DESC LIMIT 300",
    ).split()
    points = psql(
        database,
        f"SELECT lat || ',' || lng FROM reports_report WHERE id % {sample} = 1 "
        f"AND abs(lat - {CENTRE[0]}) < 0.03 AND abs(lng - {CENTRE[1]}) < 0.03 LIMIT 100",
    ).split()
    return {
        "health": ["/api/v1/health"],
        "feed": ["/api/v1/reports"],
        "near": [f"/api/v1/reports?near={p}" for p in points or [",".join(map(str, CENTRE))]],
        "q": [f"/api/v1/reports?q={w.replace(' ', '+')}" for w in WORDS],
        "detail": [f"/api/v1/reports/{r}" for r in references],
        "mine": ["/api/v1/reports?mine=true"],
    }


def tokens(env: dict[str, str]) -> dict[str, str]:
    code = f"""
from rest_framework_simplejwt.tokens import RefreshToken
from accounts.models import User
print(json.dumps({{phone: str(RefreshToken.for_user(User.objects.get(phone=phone)).access_token)
                  for phone in ({HEAVY_PHONE!r}, {FILER_PHONE!r})}}))
"""
    return django_eval(env, code)


def create_reports(base: str, token: str, jpeg: bytes, count: int) -> dict[str, Any]:
    """File `count` reports with one 12-megapixel JPEG each, one after the other."""
    import httpx

    latencies: list[float] = []
    errors = 0
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in range(count):
            begin = time.monotonic()
            answer = client.post(
                "/api/v1/reports",
                headers={**PROXY_HEADERS, "Authorization": f"Bearer {token}"},
                data={
                    "category": "street_lighting",
                    "description": f"Đèn đường không sáng (benchmark {n})",
                    "lat": str(CENTRE[0]),
                    "lng": str(CENTRE[1]),
                },
                files={"photos": ("phone.jpg", jpeg, "image/jpeg")},
            )
            latencies.append((time.monotonic() - begin) * 1000)
            errors += answer.status_code != 201
    elapsed = time.monotonic() - started
    return {
        "rps": count / elapsed,
        "requests": count,
        "p50_ms": statistics.median(latencies),
        "p90_ms": sorted(latencies)[int(0.9 * (count - 1))],
        "errors": errors,
    }


def http_pass(
    base: str, paths: dict[str, list[str]], auth: dict[str, str], seconds: int, connections: int
) -> dict[str, dict[str, Any]]:
    results = {}
    for name, urls in paths.items():
        headers = {"Authorization": f"Bearer {auth[HEAVY_PHONE]}"} if name == "mine" else None
        # Every path once, one after the other, before the timed load: its first answer (a
        # cache miss, from PostgreSQL, whose pages of a large table may still be on disk) is
        # measured here on its own, and the timed load measures the steady state, whatever
        # the number of paths (300 details take longer than the warm-up at 1M).
        first = first_requests(base, urls, headers)
        wrk(base, urls, seconds=max(1, seconds // 5), connections=connections, headers=headers)
        results[name] = wrk(base, urls, seconds=seconds, connections=connections, headers=headers)
        r = results[name]
        r["first"] = first
        if name != "health":
            # The floor again, right after: a shared machine's speed drifts within a pass
            # (other virtual machines on the host), and the share is taken against the
            # health measured next to the endpoint, not a minute before it.
            r["health_after"] = wrk(
                base,
                paths["health"],
                seconds=max(2, seconds // 2),
                connections=connections,
                headers=None,
            )
        log(
            f"  {name:8} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
            f"p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  (first of each of "
            f"{first['requests']}: p50 {first['p50_ms']:.2f} ms, p90 {first['p90_ms']:.2f} ms)"
        )
    return results


def first_requests(base: str, paths: list[str], headers: dict[str, str] | None) -> dict[str, Any]:
    """Each path requested once, in turn: the latencies of first (uncached) answers."""
    import httpx

    latencies = []
    errors = 0
    with httpx.Client(base_url=base, headers={**PROXY_HEADERS, **(headers or {})}) as client:
        for path in paths:
            begin = time.monotonic()
            errors += client.get(path, timeout=30).status_code != 200
            latencies.append((time.monotonic() - begin) * 1000)
    return {
        "requests": len(paths),
        "p50_ms": statistics.median(latencies),
        "p90_ms": percentile(latencies, 0.9),
        "errors": errors,
    }


def measure_http(
    size: int, args: argparse.Namespace, media: Path, jpeg: bytes, logs: Path
) -> dict[str, Any]:
    database = ensure_database(size, media)
    redis_flush()
    env = server_env(database, media, workers=args.workers)
    paths = scenarios(env, database, size)
    auth = tokens(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = [str(ROOT / ".venv" / "bin" / "gunicorn"), "hues.wsgi", "--bind"]
    gunicorn += [
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--access-logfile",
        "/dev/null",
    ]
    out: dict[str, Any] = {"database": database, "size": size}
    with process(gunicorn, env, logs / f"gunicorn-{size}.log") as server:
        wait_http(f"{base}/api/v1/health")
        log(f"[{database}] gunicorn {args.workers} workers on {base}, wrk -c{args.connections}:")
        out["pass1"] = http_pass(base, paths, auth, args.seconds, args.connections)
        workers = children(server.pid)
        out["rss_after_pass1_mb"] = {str(p): rss_mb(p)[0] for p in workers}
        log("  second identical pass (memory growth):")
        out["pass2"] = http_pass(base, paths, auth, args.seconds, args.connections)
        out["rss_after_pass2_mb"] = {str(p): rss_mb(p)[0] for p in workers}
        count = args.creates
        log(f"  create: {count} reports with one 12-megapixel JPEG ({len(jpeg) >> 10} KiB)")
        out["create"] = create_reports(base, auth[FILER_PHONE], jpeg, count)
        c = out["create"]
        log(f"  create   {c['rps']:8.2f} req/s  p50 {c['p50_ms']:7.1f} ms  errors {c['errors']}")
        out["rss_peak_mb"] = {str(p): rss_mb(p)[1] for p in workers}
    return out


def photo_ratios(env: dict[str, str], jpeg: bytes, rounds: int) -> dict[str, Any]:
    """In one process: reports.photos.process_photo against decoding the same JPEG at half
    scale (draft mode), and a HEIC against its full decode; the median of `rounds`."""
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as f:
        f.write(jpeg)
    code = f"""
import io, time, statistics
from PIL import Image
import pillow_heif
from reports.photos import process_photo
from reports.services import photo_limits
data = open({f.name!r}, "rb").read()
limits = photo_limits()
def timed(fn, n={rounds}):
    times = []
    for _ in range(n):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)
def half():
    im = Image.open(io.BytesIO(data)); im.draft("RGB", (im.width // 2, im.height // 2)); im.load()
def process():
    process_photo(io.BytesIO(data), size=len(data), limits=limits)
half(); process()
jpeg_half, jpeg_process = timed(half), timed(process)
big = Image.open(io.BytesIO(data)); big.load()
buffer = io.BytesIO(); big.save(buffer, format="HEIF", quality=80); heic = buffer.getvalue()
def full_heic():
    Image.open(io.BytesIO(heic)).load()
def process_heic():
    process_photo(io.BytesIO(heic), size=len(heic), limits=limits)
full_heic(); process_heic()
heic_full, heic_process = timed(full_heic), timed(process_heic)
print(json.dumps(dict(jpeg_half_decode_s=jpeg_half, jpeg_process_s=jpeg_process,
    jpeg_ratio=jpeg_process / jpeg_half, heic_full_decode_s=heic_full,
    heic_process_s=heic_process, heic_ratio=heic_process / heic_full, heic_bytes=len(heic),
    jpeg_bytes=len(data))))
"""
    try:
        return django_eval(env, code)
    finally:
        os.unlink(f.name)


def clone_database(template: str, name: str, media: Path) -> None:
    """A fresh copy of a benchmark database (PostgreSQL copies the template's files),
    migrated in case the template is older than the code."""
    psql("postgres", f"DROP DATABASE IF EXISTS {name}")
    psql("postgres", f"CREATE DATABASE {name} TEMPLATE {template}")
    env = server_env(name, media)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def celery_worker_args(queue: str | None = None, nice: int = 0) -> list[str]:
    """One worker process (solo pool), as a small deployment runs it: every queue, or the
    one named (`-Q`); with `nice`, at a lower CPU priority (README, "The processes")."""
    worker = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "hues", "worker", "-P", "solo"]
    if nice:
        worker = ["nice", "-n", str(nice), *worker]
    if queue:
        worker += ["-Q", queue, "-n", f"{queue}@%h"]
    return [*worker, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]


def broker_backlog() -> int:
    """Messages waiting in this harness's broker queue, and those delivered but not
    acknowledged yet."""
    import redis

    client = redis.Redis.from_url(f"{REDIS}/{BROKER_DB}")
    waiting = sum(int(client.llen(queue)) for queue in ("celery", "photos"))
    return waiting + int(client.hlen("unacked"))


def routing_checks(database: str, first: int) -> dict[str, int]:
    """Counts that must be 0 (or equal) after routing: reports routed more than once, and
    routing events not yet marked notified."""
    kinds = "('routed', 'needs_triage')"
    row = psql(
        database,
        f"""SELECT
            (SELECT count(*) FROM (SELECT report_id FROM reports_event
              WHERE report_id >= {first} AND kind IN {kinds}
              GROUP BY report_id HAVING count(*) > 1) twice),
            (SELECT count(*) FROM reports_event WHERE report_id >= {first}
              AND kind IN {kinds}),
            (SELECT count(*) FROM reports_event WHERE report_id >= {first}
              AND kind IN {kinds} AND notified_at IS NULL)""",
    ).split("|")
    return {
        "routed_twice": int(row[0]),
        "routing_events": int(row[1]),
        "routing_events_not_notified": int(row[2]),
    }


def routing_burst(size_db: str, media: Path, burst: int, logs: Path) -> dict[str, Any]:
    """One Celery worker process (solo pool) routes `burst` submitted reports queued at once;
    the rate is taken from the reports' own updated_at, first to last. Then the worker works
    off the rest of its queue (the routed reports' own messages and the notifications)."""
    database = f"hues_bench_routing_{os.getpid()}"
    clone_database(size_db, database, media)
    redis_flush()
    env = server_env(database, media)
    try:
        first = int(psql(database, "SELECT max(id) FROM reports_report")) + 1
        psql(
            database,
            f"""INSERT INTO reports_report (reference, reporter_id, category_id, description,
                lat, lng, address, area_id, status, priority, is_public, hide_name,
                rating_comment, supporters_count, routing_attempts, created_at, updated_at,
                reopen_count, search_text)
            SELECT 'HUE-2099-' || lpad(n::text, 6, '0'), reporter_id, category_id, description,
                lat, lng, address, area_id, 'submitted', priority, is_public, hide_name, '', 0, 0,
                now(), now(), 0, search_text
            FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM reports_report
                  ORDER BY id LIMIT {burst}) src""",
        )
        django_eval(
            env,
            f"""
from hues.celery import app
from reports.models import Report
ids = list(Report.objects.filter(id__gte={first}).values_list("id", flat=True))
with app.producer_or_acquire() as producer:
    for i in ids:
        app.send_task("reports.route", args=[i], producer=producer)
print(json.dumps(len(ids)))
""",
        )
        left = burst
        with process(celery_worker_args(), env, logs / "celery-routing.log") as proc:
            started = time.monotonic()
            deadline = started + 300
            while time.monotonic() < deadline:
                left = int(
                    psql(
                        database,
                        f"SELECT count(*) FROM reports_report WHERE id >= {first} "
                        "AND status = 'submitted'",
                    )
                )
                if left == 0:
                    break
                time.sleep(1)
            routed_after = time.monotonic() - started
            while time.monotonic() < deadline and broker_backlog():
                time.sleep(0.5)
            drained_after = time.monotonic() - started
            backlog = broker_backlog()
            rss = rss_mb(proc.pid)
        span = psql(
            database,
            "SELECT extract(epoch FROM max(updated_at) - min(updated_at)), "
            "count(*) FILTER (WHERE status = 'routed') FROM reports_report "
            f"WHERE id >= {first} AND status <> 'submitted'",
        ).split("|")
        seconds, routed = float(span[0] or 0), int(span[1])
        return {
            "burst": burst,
            "routed": routed,
            "left_submitted": left,
            "seconds": seconds,
            "per_second": (burst - left) / seconds if seconds else 0.0,
            "worker_seconds_until_routed": routed_after,
            "worker_seconds_until_queue_empty": drained_after,
            "broker_backlog_left": backlog,
            **routing_checks(database, first),
            "worker_rss_mb": rss[0],
            "worker_peak_rss_mb": rss[1],
        }
    finally:
        redis_flush()
        psql("postgres", f"DROP DATABASE IF EXISTS {database}")


E2E_CATEGORIES = ["street_lighting", "garbage", "urban_order", "trees_parks", "drainage"]
E2E_KEYS = 100  # Open311 keys the text reports rotate over (60 requests/min each, by default)


def e2e_credentials(env: dict[str, str]) -> dict[str, Any]:
    """A JWT for the citizen who files the photo reports, and Open311 keys (one service
    account) for the text-only ones: the mobile API needs a photo, Open311 carries none."""
    code = f"""
from rest_framework_simplejwt.tokens import RefreshToken
from accounts.models import User
from open311.services import api_key_create
first = api_key_create(name="benchmark 0")
keys = [first.key] + [api_key_create(name=f"benchmark {{n}}", user=first.api_key.user).key
                      for n in range(1, {E2E_KEYS})]
token = str(RefreshToken.for_user(User.objects.get(phone={FILER_PHONE!r})).access_token)
print(json.dumps({{"token": token, "keys": keys}}))
"""
    return django_eval(env, code)


async def http_post(
    port: int, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One POST over its own connection (`Connection: close`): the status and the body. A
    request waiting for the server waits in its listen queue, as a real client's would, not
    in a client-side pool (httpx's pool spends its CPU rescanning hundreds of waiting
    requests, which made the load generator the bottleneck)."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        writer.write(body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    header, _, content = answer.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1]) if header.startswith(b"HTTP/") else 0
    if b"transfer-encoding: chunked" in header.lower():
        chunks, rest = [], content
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            length = int(size.split(b";")[0], 16)
            if length == 0:
                break
            chunks.append(rest[:length])
            rest = rest[length + 2 :]
        content = b"".join(chunks)
    return status, content


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[str, bytes]:
    boundary = "hues-benchmark-boundary-7d1c"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


async def open_loop(
    port: int, credentials: dict[str, Any], jpeg: bytes, args: argparse.Namespace, run: int
) -> list[dict[str, Any]]:
    """File reports at fixed arrival rates for `args.e2e_seconds`: each request is sent at
    its scheduled moment whether or not the earlier ones have been answered (an open loop),
    and its latency counts from that moment, so a slow server cannot slow the load down."""
    import asyncio
    import random
    from urllib.parse import urlencode

    rng = random.Random(run)
    results: list[dict[str, Any]] = []

    def point() -> tuple[str, str]:
        lat = CENTRE[0] + rng.uniform(-0.004, 0.004)
        lng = CENTRE[1] + rng.uniform(-0.004, 0.004)
        return f"{lat:.6f}", f"{lng:.6f}"

    def request(kind: str, n: int) -> tuple[str, dict[str, str], bytes]:
        lat, lng = point()
        category = E2E_CATEGORIES[n % len(E2E_CATEGORIES)]
        headers = {**PROXY_HEADERS, "X-Forwarded-For": f"198.51.100.{n % 250 + 1}"}
        if kind == "text":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            form = {
                "api_key": credentials["keys"][n % len(credentials["keys"])],
                "service_code": category,
                "lat": lat,
                "long": lng,
                "description": f"Benchmark {run}-{n}: báo cáo không có ảnh",
            }
            return "/open311/v2/requests.json", headers, urlencode(form).encode()
        headers["Authorization"] = f"Bearer {credentials['token']}"
        fields = {
            "category": category,
            "description": f"Benchmark {run}-{n}: báo cáo có ảnh",
            "lat": lat,
            "lng": lng,
        }
        content_type, body = multipart(fields, {"photos": ("phone.jpg", jpeg, "image/jpeg")})
        headers["Content-Type"] = content_type
        return "/api/v1/reports", headers, body

    async def one(kind: str, n: int, scheduled: float) -> None:
        path, headers, body = request(kind, n)
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        reference = ""
        try:
            status, content = await asyncio.wait_for(http_post(port, path, headers, body), 120)
            if status == 201:
                answer = json.loads(content)
                reference = (
                    answer[0]["service_request_id"] if kind == "text" else answer["reference"]
                )
        except (OSError, TimeoutError, ValueError) as error:
            status = type(error).__name__  # type: ignore[assignment]
        results.append(
            {
                "kind": kind,
                "status": status,
                "reference": reference,
                "latency_ms": (loop.time() - scheduled) * 1000,
            }
        )

    loop = asyncio.get_running_loop()
    start = loop.time() + 1.0
    jobs = []
    for kind, rate in (("text", args.e2e_text_rate), ("photo", args.e2e_photo_rate)):
        count = int(rate * args.e2e_seconds)
        jobs += [one(kind, n, start + n / rate) for n in range(count)]
    await asyncio.gather(*jobs)
    return results


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def sql_references(references: list[str]) -> str:
    """Report references as an SQL list for psql (only well-formed ones: they come from the
    server's answers)."""
    return ",".join(f"'{r}'" for r in references if re.fullmatch(r"[A-Z]+-\d+-\d+", r))


def e2e_routed(database: str, references: list[str], timeout: float) -> dict[str, Any]:
    """Wait (bounded) until the filed reports are routed; the time from each report's
    created_at to its routing event (routed, or sent to triage by the rules)."""
    if not references:
        return {"routed": 0, "left_submitted": 0}
    listed = sql_references(references)
    deadline = time.monotonic() + timeout
    left = len(references)
    while time.monotonic() < deadline:
        left = int(
            psql(
                database,
                f"SELECT count(*) FROM reports_report WHERE reference IN ({listed}) "
                "AND status = 'submitted'",
            )
        )
        if left == 0:
            break
        time.sleep(1)
    rows = psql(
        database,
        f"""SELECT extract(epoch FROM min(e.created_at) - r.created_at)
            FROM reports_report r JOIN reports_event e ON e.report_id = r.id
            WHERE r.reference IN ({listed}) AND e.kind IN ('routed', 'needs_triage')
            GROUP BY r.id""",
    ).split()
    seconds = [float(v) for v in rows]
    return {
        "routed": len(seconds),
        "left_submitted": left,
        "to_routed_p50_s": percentile(seconds, 0.5),
        "to_routed_p95_s": percentile(seconds, 0.95),
        "to_routed_max_s": max(seconds) if seconds else float("nan"),
    }


def e2e_run(
    base: str, database: str, credentials: dict[str, Any], jpeg: bytes, args: argparse.Namespace
) -> dict[str, Any]:
    import asyncio

    started = time.monotonic()
    port = int(base.rsplit(":", 1)[1])
    answers = asyncio.run(open_loop(port, credentials, jpeg, args, run=args.e2e_run))
    load_seconds = time.monotonic() - started
    args.e2e_run += 1
    out: dict[str, Any] = {"load_seconds": load_seconds}
    for kind in ("text", "photo"):
        mine = [a for a in answers if a["kind"] == kind]
        latencies = [a["latency_ms"] for a in mine if a["status"] == 201]
        out[kind] = {
            "requests": len(mine),
            "created": len(latencies),
            "errors": sum(a["status"] != 201 for a in mine),
            "error_kinds": sorted({str(a["status"]) for a in mine if a["status"] != 201}),
            "create_p50_ms": percentile(latencies, 0.5),
            "create_p95_ms": percentile(latencies, 0.95),
            "create_max_ms": max(latencies) if latencies else float("nan"),
        }
    references = [a["reference"] for a in answers if a["reference"]]
    out["errors"] = out["text"]["errors"] + out["photo"]["errors"]
    out.update(e2e_routed(database, references, timeout=180))
    out["_references"] = references  # for e2e_photos, once the queues are empty
    return out


def e2e_photos(database: str, references: list[str]) -> dict[str, Any]:
    """The privacy step of the run's photos (the "photos" queue): how many are public and
    how long after their report's 201 (report created_at to the photo's redacted_at)."""
    listed = sql_references(references)
    if not listed:
        return {"photos": 0, "photos_public": 0}
    rows = psql(
        database,
        f"""SELECT coalesce(extract(epoch FROM p.redacted_at - r.created_at)::text, '-')
            FROM reports_report r JOIN reports_photo p ON p.report_id = r.id
            WHERE r.reference IN ({listed})""",
    ).split()
    seconds = [float(v) for v in rows if v != "-"]
    return {
        "photos": len(rows),
        "photos_public": len(seconds),
        "to_public_p50_s": percentile(seconds, 0.5),
        "to_public_p95_s": percentile(seconds, 0.95),
        "to_public_max_s": max(seconds) if seconds else float("nan"),
    }


def measure_e2e(
    template: str, args: argparse.Namespace, media: Path, jpeg: bytes, logs: Path
) -> dict[str, Any]:
    """Filing at fixed rates (text-only reports through Open311, photo reports through the
    mobile API) against gunicorn (2 workers) and a Celery worker process per queue (the
    default one; "photos", the privacy step), twice: the 201-to-routed times, the photos'
    201-to-public times, creation latencies, and the processes' memory after each run."""
    database = f"hues_bench_e2e_{os.getpid()}"  # two harness runs never share a copy
    clone_database(template, database, media)
    redis_flush()
    env = server_env(database, media, workers=args.workers)
    try:
        credentials = e2e_credentials(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = [str(ROOT / ".venv" / "bin" / "gunicorn"), "hues.wsgi", "--bind"]
        gunicorn += [f"127.0.0.1:{port}", "--workers", str(args.workers)]
        gunicorn += ["--access-logfile", "/dev/null", "--backlog", "2048"]
        out: dict[str, Any] = {
            "database": database,
            "text_per_second": args.e2e_text_rate,
            "photo_per_second": args.e2e_photo_rate,
            "seconds": args.e2e_seconds,
            "photo_bytes": len(jpeg),
            "runs": [],
        }
        with (
            process(gunicorn, env, logs / "gunicorn-e2e.log") as server,
            process(celery_worker_args("celery"), env, logs / "celery-e2e.log") as worker,
            process(
                celery_worker_args("photos", nice=10), env, logs / "celery-photos-e2e.log"
            ) as photos,
        ):
            wait_http(f"{base}/api/v1/health")
            log(
                f"[{database}] e2e: {args.e2e_text_rate}/s text (Open311) + "
                f"{args.e2e_photo_rate}/s with one photo ({len(jpeg) >> 10} KiB) for "
                f"{args.e2e_seconds} s; gunicorn {args.workers} workers, a Celery worker per queue "
                "(celery, photos)"
            )
            api_workers = children(server.pid)
            for n in (1, 2):
                run = e2e_run(base, database, credentials, jpeg, args)
                # The photos' privacy step (about a second each, on one core) drains after
                # the load; bounded, and what is left is reported.
                deadline = time.monotonic() + 900
                while time.monotonic() < deadline and broker_backlog():
                    time.sleep(0.5)
                run["broker_backlog_left"] = broker_backlog()
                run.update(e2e_photos(database, run.pop("_references")))
                run["worker_rss_mb"], run["worker_peak_rss_mb"] = rss_mb(worker.pid)
                run["photos_worker_rss_mb"], run["photos_worker_peak_rss_mb"] = rss_mb(photos.pid)
                # A worker gunicorn replaced (its timeout) is reported as replaced.
                now = children(server.pid)
                run["api_workers_replaced"] = len(set(api_workers) - set(now))
                api_workers = now
                run["api_rss_mb"] = {str(p): rss_mb(p)[0] for p in api_workers}
                run["api_peak_rss_mb"] = {str(p): rss_mb(p)[1] for p in api_workers}
                out["runs"].append(run)
                log(f"  run {n}: " + e2e_line(run))
        return out
    finally:
        redis_flush()
        psql("postgres", f"DROP DATABASE IF EXISTS {database}")


def e2e_line(run: dict[str, Any]) -> str:
    text, photo = run["text"], run["photo"]
    return (
        f"{text['created']}/{text['requests']} text, {photo['created']}/{photo['requests']} "
        f"photo created in {run['load_seconds']:.0f} s, errors {run['errors']} "
        f"{text['error_kinds'] + photo['error_kinds'] or ''}; create p95 text "
        f"{text['create_p95_ms']:.0f} ms, photo {photo['create_p95_ms']:.0f} ms (p50 "
        f"{text['create_p50_ms']:.0f} / {photo['create_p50_ms']:.0f} ms); 201->routed p50 "
        f"{run['to_routed_p50_s']:.2f} s, p95 {run['to_routed_p95_s']:.2f} s, max "
        f"{run['to_routed_max_s']:.2f} s ({run['routed']} routed, {run['left_submitted']} "
        f"left); photos public {run['photos_public']}/{run['photos']}, 201->public p50 "
        f"{run.get('to_public_p50_s', float('nan')):.1f} s, p95 "
        f"{run.get('to_public_p95_s', float('nan')):.1f} s; worker RSS "
        f"{run['worker_rss_mb']:.0f} MiB (peak {run['worker_peak_rss_mb']:.0f}), photos worker "
        f"{run['photos_worker_rss_mb']:.0f} MiB, API "
        + "/".join(f"{v:.0f}" for v in run["api_rss_mb"].values())
        + f" MiB ({run.get('api_workers_replaced', 0)} API workers replaced)"
    )


def machine() -> dict[str, Any]:
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "load_average_at_start": os.getloadavg(),
        "postgresql": psql("postgres", "SHOW server_version"),
        "redis": subprocess.run(
            ["redis-cli", "-u", f"{REDIS}/0", "INFO", "server"], capture_output=True, text=True
        )
        .stdout.split("redis_version:")[1]
        .split()[0],
        "python": platform.python_version(),
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(
            "\n"
        )[0],
    }


def summarise(results: dict[str, Any]) -> list[str]:
    lines = []
    sizes = results["http"]
    for run in sizes:
        p = run["pass1"]
        floor = p["health"]["rps"]
        lines.append(f"{run['size']:>9} reports: health {floor:.0f} req/s")
        for name, target in (("feed", 0.35), ("detail", 0.5), ("near", 0.25), ("q", 0.25)):
            ratio = p[name]["rps"] / floor if floor else 0
            ok = "ok" if ratio >= target else "MISSED"
            line = (
                f"    {name:7} {ratio:6.1%} of health (target {target:.0%}) {ok}; "
                f"p50 {p[name]['p50_ms']:.2f} ms"
            )
            after = p[name].get("health_after")
            if after and after["rps"]:
                beside = p[name]["rps"] / after["rps"]
                verdict = "ok" if beside >= target else "MISSED"
                line += (
                    f"; {beside:.1%} of the health measured right after it "
                    f"({after['rps']:.0f} req/s) {verdict}"
                )
            lines.append(line)
        lines.append(f"    mine    {p['mine']['rps'] / floor:6.1%} of health")
        growth = {
            pid: run["rss_after_pass2_mb"][pid] / run["rss_after_pass1_mb"][pid] - 1
            for pid in run["rss_after_pass1_mb"]
        }
        lines.append(
            "    API worker RSS after pass 1 / 2 (MiB): "
            + ", ".join(
                f"{run['rss_after_pass1_mb'][pid]:.0f}/{run['rss_after_pass2_mb'][pid]:.0f} "
                f"({growth[pid]:+.1%})"
                for pid in growth
            )
            + "; peak "
            + ", ".join(f"{v:.0f}" for v in run["rss_peak_mb"].values())
        )
    if len(sizes) >= 2:
        small, large = sizes[0]["pass1"], sizes[-1]["pass1"]
        # The load of a shared machine drifts between the two sizes: the same ratio with
        # each median taken relative to health's median of its own pass is printed too.
        drift = large["health"]["p50_ms"] / small["health"]["p50_ms"]
        # The flat-growth targets are the feed's, near's and the detail's; q and
        # mine are printed beside them.
        for name in ("feed", "near", "detail", "q", "mine"):
            ratio = large[name]["p50_ms"] / small[name]["p50_ms"]
            if name in ("feed", "near", "detail"):
                verdict = "(target <= 1.3x) " + ("ok" if ratio <= 1.3 else "MISSED")
            else:
                verdict = "(no target)"
            lines.append(
                f"flat growth {name:7} p50 {sizes[-1]['size']} / {sizes[0]['size']}: "
                f"{ratio:.2f}x {verdict}; relative to health's: {ratio / drift:.2f}x"
            )
        for name in ("detail", "near", "q"):
            if "first" in small[name] and "first" in large[name]:
                first_small, first_large = small[name]["first"], large[name]["first"]
                lines.append(
                    f"first answers {name:7} (uncached, each path once): p50 "
                    f"{first_small['p50_ms']:.1f} ms at {sizes[0]['size']}, "
                    f"{first_large['p50_ms']:.1f} ms at {sizes[-1]['size']} "
                    f"({first_large['p50_ms'] / first_small['p50_ms']:.2f}x)"
                )
    photo = results.get("photo")
    if photo:
        lines.append(
            f"photo: JPEG process {photo['jpeg_process_s'] * 1000:.0f} ms / half decode "
            f"{photo['jpeg_half_decode_s'] * 1000:.0f} ms = {photo['jpeg_ratio']:.2f}x "
            f"(target <= 2.5x); HEIC {photo['heic_process_s'] * 1000:.0f} ms / full decode "
            f"{photo['heic_full_decode_s'] * 1000:.0f} ms = {photo['heic_ratio']:.2f}x "
            "(target <= 2x)"
        )
    routing = results.get("routing")
    if routing:
        lines.append(
            f"routing: {routing['burst'] - routing['left_submitted']} of {routing['burst']} in "
            f"{routing['seconds']:.1f} s = {routing['per_second']:.0f}/s (target >= 300/s); "
            f"queue empty after {routing['worker_seconds_until_queue_empty']:.1f} s "
            f"(backlog left {routing['broker_backlog_left']}); routed twice "
            f"{routing['routed_twice']}, events {routing['routing_events']}, not notified "
            f"{routing['routing_events_not_notified']}; worker RSS "
            f"{routing['worker_rss_mb']:.0f} MiB, peak {routing['worker_peak_rss_mb']:.0f} MiB"
        )
    e2e = results.get("e2e")
    if e2e:
        first, second = e2e["runs"][0], e2e["runs"][-1]
        lines.append(
            f"e2e ({e2e['text_per_second']}/s text + {e2e['photo_per_second']}/s photo, "
            f"{e2e['seconds']} s), run 1: {e2e_line(first)}"
        )
        lines.append(
            f"e2e target: 0 errors ({'ok' if first['errors'] == 0 else 'MISSED'}), p95 "
            f"201->routed < 1 s ({'ok' if first['to_routed_p95_s'] < 1 else 'MISSED'})"
        )
        growth = second["worker_rss_mb"] / first["worker_rss_mb"] - 1
        lines.append(
            f"Celery worker RSS after run 1 / 2: {first['worker_rss_mb']:.0f} / "
            f"{second['worker_rss_mb']:.0f} MiB ({growth:+.1%}, target <= +20% "
            f"{'ok' if growth <= 0.2 else 'MISSED'}); peak {second['worker_peak_rss_mb']:.0f} MiB"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    parser.add_argument("--sizes", help="comma-separated report counts (default 10000,1000000)")
    parser.add_argument("--seconds", type=int, help="seconds of load per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--creates", type=int, help="reports filed with a photo (default 12)")
    parser.add_argument("--burst", type=int, help="reports in the routing burst (10000)")
    parser.add_argument("--skip", default="", help="comma-separated: http,photo,routing,e2e")
    parser.add_argument(
        "--template",
        help="database the routing and e2e phases copy (default: the first size's)",
    )
    parser.add_argument("--e2e-seconds", type=int, help="seconds of e2e load (default 60)")
    parser.add_argument("--e2e-text-rate", type=float, default=50, help="text reports/s")
    parser.add_argument("--e2e-photo-rate", type=float, default=8, help="photo reports/s")
    parser.add_argument(
        "--e2e-photo-mp", type=float, default=12, help="megapixels of the e2e photo (default 12)"
    )
    args = parser.parse_args()
    # A TERM (timeout, a stopped job) unwinds like ^C: the servers stop, the copies are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        log("wrk is needed: apt-get install wrk")
        return 2
    quick = args.quick
    sizes = [
        int(s) for s in (args.sizes or ("2000,20000" if quick else "10000,1000000")).split(",")
    ]
    args.seconds = args.seconds or (3 if quick else 10)
    args.creates = args.creates or (3 if quick else 12)
    args.burst = args.burst or (1000 if quick else 10000)
    args.e2e_seconds = args.e2e_seconds or (10 if quick else 60)
    args.e2e_run = 1
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["tests/perf/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {
            "gunicorn_workers": args.workers,
            "wrk_connections": args.connections,
            "seconds_per_endpoint": args.seconds,
        },
        "http": [],
    }
    log(json.dumps(results["machine"]))
    jpeg = phone_jpeg()
    with tempfile.TemporaryDirectory(prefix="hues-bench-") as tmp:
        media, logs = Path(tmp) / "media", Path(tmp) / "logs"
        media.mkdir()
        logs.mkdir()
        try:
            if "http" not in skip:
                for size in sizes:
                    results["http"].append(measure_http(size, args, media, jpeg, logs))
            if "photo" not in skip:
                env = server_env(db_name(sizes[0]), media)
                results["photo"] = photo_ratios(env, jpeg, rounds=3 if quick else 7)
            template = args.template or db_name(sizes[0])
            if not args.template and not {"routing", "e2e"} <= skip:
                ensure_database(sizes[0], media)
            if "routing" not in skip:
                results["routing"] = routing_burst(template, media, args.burst, logs)
            if "e2e" not in skip:
                e2e_jpeg = jpeg
                if args.e2e_photo_mp != 12:
                    side = round((args.e2e_photo_mp * 1e6 / 12) ** 0.5)
                    e2e_jpeg = phone_jpeg(4 * side, 3 * side)
                results["e2e"] = measure_e2e(template, args, media, e2e_jpeg, logs)
        finally:
            for name in sorted(logs.iterdir()):
                tail = name.read_text()[-1500:].strip()
                if "Traceback" in tail or "ERROR" in tail:
                    log(f"--- {name.name} (tail)\n{tail}")
    lines = summarise(results)
    log("\n".join(["", "== results ==", *lines]))
    results["summary"] = lines
    RESULTS.mkdir(exist_ok=True)
    # A run of some phases only keeps its own file, so it never replaces a full run's.
    phases = [p for p in ("http", "photo", "routing", "e2e") if p not in skip]
    suffix = "" if len(phases) == 4 else "-" + "-".join(phases)
    name = f"quick{suffix}.json" if quick else f"latest{suffix}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    log(f"written: {RESULTS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
