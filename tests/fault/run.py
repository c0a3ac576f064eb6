"""Fault injection: real processes on loopback, a steady stream of reports, and the faults
production will meet; then the client's log is compared with the database.

    .venv/bin/python tests/fault/run.py --short      # CI (tests/e2e/test_fault_injection.py)
    .venv/bin/python tests/fault/run.py --long       # locally: longer outages, more traffic

It starts its own PostgreSQL (initdb in a temporary directory, as the postgres user, on a
free port) and its own Redis (free port, temporary directory), the project under gunicorn
with production settings (DEBUG off), a Celery worker (prefork) and beat. It stops, pauses,
kills and restarts only those processes, by the ids it recorded; the machine's shared
PostgreSQL and Redis are never touched.

A client files reports at a steady rate, each with its own Idempotency-Key, retrying the
same key on a 503, 409 or lost answer as the app does, and logs every 201 (reference and
key). Meanwhile: kill -9 of a worker child, kill -9 of the worker's main process (then
restarted), Redis stopped and restarted, Redis paused (CLIENT PAUSE), PostgreSQL restarted.
While Redis and PostgreSQL are down, a load balancer's probes ask every second: readiness
must answer 503 naming what is down (cache, database) and 200 once it is back, liveness 200
throughout.
Then the idempotency stress (the same report sent 1 to 5 times, copies at the same moment,
some answers dropped). At the end the figures are printed (and written as JSON with --json),
and the exit status is 1 when one misses its target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from tests.fault.harness import (  # noqa: E402
    PYTHON,
    Proc,
    Stack,
    base_env,
    free_port,
    make_postgres,
    make_redis,
    manage,
    photo_file,
    port_open,
    postgres_bin,
    report_form,
    wait_for,
)

PASSWORD = "fault-injection-passphrase-42"
CITIZENS = [f"+8490555{n:04d}" for n in range(4)]
# Every rate limit of hues/settings.py, lifted for the suite's few heavy users.
THROTTLE_SCOPES = [
    "ANON",
    "USER",
    "AUTH",
    "AUTH_IP",
    "LOGIN",
    "LOGIN_IP",
    "REGISTER",
    "REGISTER_IP",
    "CODE_SEND",
    "CODE_SEND_IP",
    "REPORT_CREATE",
    "REPORT_CREATE_IP",
]
SLOW_SECONDS = 5.0
ROUTED_WITHIN_SECONDS = 240.0
# NOTIFY_SWEEP_AFTER (2 minutes) and the sweeper's period (beat, every minute).
SWEPT_WITHIN_SECONDS = 180.0


@dataclass(frozen=True)
class Profile:
    rate: float  # logical reports a second
    steady: float  # seconds of normal running before and between faults
    worker_down: float
    redis_down: float
    redis_pause: float
    postgres_down: float
    stress_keys: int


PROFILES = {
    "short": Profile(
        rate=2.0,
        steady=12,
        worker_down=5,
        redis_down=15,
        redis_pause=10,
        postgres_down=8,
        stress_keys=24,
    ),
    "long": Profile(
        rate=4.0,
        steady=45,
        worker_down=20,
        redis_down=90,
        redis_pause=30,
        postgres_down=30,
        stress_keys=120,
    ),
}


def now() -> float:
    return time.time()


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    out(f"[{time.strftime('%H:%M:%S')}] {message}")


# The client


@dataclass
class Attempt:
    key: str
    started: float
    seconds: float
    status: int  # 0: no answer (connection refused, reset, timeout)
    error: str = ""


@dataclass
class Accepted:
    key: str
    reference: str
    at: float
    attempts: int


@dataclass
class ClientLog:
    attempts: list[Attempt] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def accept(self, accepted: Accepted) -> None:
        with self.lock:
            self.accepted.append(accepted)


class Client:
    """The mobile app filing reports: a fresh key per report, the same key on every retry."""

    def __init__(self, base_url: str, tokens: list[str], log: ClientLog) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.log = log
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="client")
        self.count = 0

    def headers(self, token: str, key: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
            # As behind the TLS-terminating proxy of production.
            "X-Forwarded-Proto": "https",
        }

    def file_one(self, number: int) -> None:
        key = str(uuid.uuid4())
        token = self.tokens[number % len(self.tokens)]
        form = report_form(f"Đèn đường không sáng (thử lỗi {number})")
        photo = photo_file()
        deadline = now() + 600
        tries = 0
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while now() < deadline:
                tries += 1
                started = now()
                try:
                    response = http.post(
                        "/api/v1/reports",
                        data=form,
                        files={"photos": photo},
                        headers=self.headers(token, key),
                    )
                except httpx.HTTPError as error:
                    self.log.attempt(Attempt(key, started, now() - started, 0, repr(error)))
                    time.sleep(1)
                    continue
                self.log.attempt(Attempt(key, started, now() - started, response.status_code, ""))
                if response.status_code == 201:
                    self.log.accept(Accepted(key, response.json()["reference"], now(), tries))
                    return
                if response.status_code in (409, 429, 502, 503, 504) or response.status_code >= 500:
                    time.sleep(1)
                    continue
                # Anything else is a refusal the app would show: keep it in the log.
                self.log.attempt(Attempt(key, now(), 0, response.status_code, response.text[:200]))
                break
        self.log.given_up.append(key)

    def run(self, rate: float) -> None:
        interval = 1.0 / rate
        next_at = now()
        while not self.stop.is_set():
            try:
                self.pool.submit(self.file_one, self.count)
            except RuntimeError:  # the pool was shut down: the run is over
                return
            self.count += 1
            next_at += interval
            self.stop.wait(max(0.0, next_at - now()))

    def finish(self) -> None:
        self.stop.set()
        self.pool.shutdown(wait=True)


# The system under test


@dataclass
class System:
    stack: Stack
    env: dict[str, str]
    postgres: Proc
    pg_port: int
    redis: Proc
    redis_port: int
    web: Proc
    web_port: int
    worker: Proc
    beat: Proc
    # What the health probes answered during each outage (observe_probes).
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.pg_port}/hues", connect_timeout=5
        ) as db:
            return list(db.execute(query, args).fetchall())


def start_system(workdir: Path) -> System:
    stack = Stack(workdir)
    postgres, pg_port = make_postgres(stack)
    bindir = postgres_bin()
    assert bindir is not None
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True
    ) as db:
        db.execute("CREATE DATABASE hues")
    redis_proc, redis_port = make_redis(stack)
    env = base_env(
        DJANGO_SETTINGS_MODULE="hues.settings",
        DEBUG="false",
        SECRET_KEY="fault-injection-" + uuid.uuid4().hex * 2,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg_port}/hues",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
        CACHE_URL=f"redis://127.0.0.1:{redis_port}/1",
        MEDIA_ROOT=str(workdir / "media"),
        SMS_BACKEND="file",
        SMS_FILE_DIR=str(workdir / "sms"),
        PUSH_BACKEND="log",
        # The suite's citizens file far more than a person would: no rate limit on them.
        **{f"THROTTLE_{scope}": "100000/min" for scope in THROTTLE_SCOPES},
        JWT_ACCESS_MINUTES="240",
        LOG_LEVEL="INFO",
    )
    say("Migrating and loading the reference data...")
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo")
    manage(
        env,
        "shell",
        "-c",
        (
            "from django.utils import timezone\n"
            "from accounts.models import User, Role\n"
            "from accounts.services import user_set_role\n"
            "from reports.models import Agency\n"
            f"for phone in {CITIZENS!r}:\n"
            f"    User.objects.create_user(phone, {PASSWORD!r}, full_name='Người thử',"
            " phone_verified_at=timezone.now())\n"
            f"staff = User.objects.create_user('+84905559999', {PASSWORD!r}, full_name='HEPCO')\n"
            "user_set_role(user=staff, role=Role.STAFF, agency=Agency.objects.get(code='hepco'))\n"
        ),
    )
    web_port = free_port()
    web = Proc(
        name="gunicorn",
        argv=[
            PYTHON,
            "-m",
            "gunicorn",
            "hues.wsgi",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "60",
            "--bind",
            f"127.0.0.1:{web_port}",
        ],
        env=env,
        log=workdir / "gunicorn.log",
    )
    stack.add(web).start()
    worker = Proc(
        name="worker",
        argv=[
            PYTHON,
            "-m",
            "celery",
            "-A",
            "hues",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=fault-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        log=workdir / "worker.log",
    )
    stack.add(worker).start()
    beat = Proc(
        name="beat",
        argv=[
            PYTHON,
            "-m",
            "celery",
            "-A",
            "hues",
            "beat",
            "--loglevel=INFO",
            f"--schedule={workdir / 'beat-schedule'}",
        ],
        env=env,
        log=workdir / "beat.log",
    )
    stack.add(beat).start()
    wait_for(lambda: port_open(web_port), timeout=90, what="gunicorn to listen")
    wait_for(lambda: len(worker.children()) >= 2, timeout=90, what="the worker's children")
    return System(
        stack, env, postgres, pg_port, redis_proc, redis_port, web, web_port, worker, beat
    )


def tokens(system: System) -> list[str]:
    found = []
    for phone in CITIZENS:
        response = httpx.post(
            f"{system.base_url}/api/v1/auth/token",
            json={"phone": phone, "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
            timeout=30,
        )
        response.raise_for_status()
        found.append(response.json()["access"])
    return found


# Faults: each returns (start, recovered) wall-clock times


@dataclass
class Fault:
    name: str
    started: float
    recovered: float
    note: str = ""


def kill_worker_child(system: System, profile: Profile) -> Fault:
    children = system.worker.children()
    assert children, "the worker has no child to kill"
    victim = children[0]
    log_before = system.worker.log.stat().st_size
    started = now()
    os.kill(victim, signal.SIGKILL)  # one of the processes our worker started
    wait_for(
        lambda: victim not in system.worker.children() and len(system.worker.children()) >= 2,
        timeout=60,
        what="the worker to replace its child",
    )
    time.sleep(1)
    with system.worker.log.open("rb") as log:
        log.seek(log_before)
        busy = b"WorkerLostError" in log.read()
    # Tasks take some 50 ms: the child is often idle when it is killed; the log says.
    return Fault(
        "kill -9 worker child",
        started,
        now(),
        f"pid {victim}, {'was running a task (requeued)' if busy else 'was idle'}",
    )


def kill_worker_main(system: System, profile: Profile) -> Fault:
    started = now()
    pid = system.worker.pid
    os.kill(pid, signal.SIGKILL)
    assert system.worker.popen is not None
    system.worker.popen.wait(timeout=30)
    time.sleep(1)
    # Its orphaned children in the same process group: the container would take them too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    time.sleep(profile.worker_down)
    system.worker.start()
    wait_for(lambda: len(system.worker.children()) >= 2, timeout=90, what="the new worker")
    return Fault("kill -9 worker main process", started, now(), f"pid {pid}, restarted")


def probe(system: System, path: str) -> tuple[int, dict[str, Any]]:
    """A load balancer's probe: the status and the body (0 and {} for no answer)."""
    try:
        response = httpx.get(f"{system.base_url}{path}", timeout=5)
    except httpx.HTTPError:
        return 0, {}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}


def observe_probes(system: System, fault: str, seconds: float) -> None:
    """Probe liveness and readiness every second for `seconds` (the outage)."""
    ready: Counter[str] = Counter()
    live: Counter[str] = Counter()
    named: set[str] = set()
    until = now() + seconds
    while now() < until:
        status, body = probe(system, "/health/ready")
        ready[str(status)] += 1
        named.update(body.get("down", []))
        live[str(probe(system, "/health/live")[0])] += 1
        time.sleep(1)
    system.probes[fault] = {
        "ready_answers": dict(sorted(ready.items())),
        "down_named": sorted(named),
        "live_answers": dict(sorted(live.items())),
    }


def ready_again(system: System, fault: str) -> None:
    """Time from the dependency's return to the first 200 from readiness."""
    back = now()
    try:
        wait_for(lambda: probe(system, "/health/ready")[0] == 200, timeout=60, what="ready again")
        system.probes[fault]["ready_again_after_s"] = round(now() - back, 1)
    except TimeoutError:
        system.probes[fault]["ready_again_after_s"] = None


def stop_redis(system: System, profile: Profile) -> Fault:
    started = now()
    system.redis.stop()
    observe_probes(system, "Redis stopped", profile.redis_down)
    system.redis.start()
    wait_for(lambda: port_open(system.redis_port), timeout=60, what="Redis again")
    ready_again(system, "Redis stopped")
    return Fault("Redis stopped", started, now(), f"{profile.redis_down:.0f} s")


def pause_redis(system: System, profile: Profile) -> Fault:
    client = redis.Redis(host="127.0.0.1", port=system.redis_port, socket_timeout=5)
    started = now()
    client.execute_command("CLIENT", "PAUSE", int(profile.redis_pause * 1000), "ALL")
    time.sleep(profile.redis_pause)
    wait_for(lambda: bool(client.ping()), timeout=30, what="Redis to answer after the pause")
    client.close()
    return Fault("Redis paused (CLIENT PAUSE ALL)", started, now(), f"{profile.redis_pause:.0f} s")


def restart_postgres(system: System, profile: Profile) -> Fault:
    started = now()
    system.postgres.signal(signal.SIGINT)  # fast shutdown: sessions are cut
    assert system.postgres.popen is not None
    system.postgres.popen.wait(timeout=60)
    observe_probes(system, "PostgreSQL restarted", profile.postgres_down)
    system.postgres.start()
    wait_for(lambda: bool(system.sql("SELECT 1")), timeout=60, what="PostgreSQL again")
    ready_again(system, "PostgreSQL restarted")
    return Fault("PostgreSQL restarted", started, now(), f"down {profile.postgres_down:.0f} s")


FAULTS = [kill_worker_child, kill_worker_main, stop_redis, pause_redis, restart_postgres]


# Idempotency under stress


def _raw_post_and_drop(base_url: str, token: str, key: str, form: dict[str, str]) -> None:
    """Send the whole request, then close the connection without reading the answer."""
    request = httpx.Request(
        "POST",
        f"{base_url}/api/v1/reports",
        data=form,
        files={"photos": photo_file()},
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
            "X-Forwarded-Proto": "https",
        },
    )
    body = request.read()
    head = [f"POST {request.url.raw_path.decode()} HTTP/1.1"]
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    host, port = request.url.host, request.url.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        sock.shutdown(socket.SHUT_WR)


def idempotency_stress(system: System, token: str, keys: int) -> dict[str, Any]:
    """Each logical report sent 1 to 5 times: some copies at the same moment (threads
    released by a barrier), some answers dropped; then the same key once more until 201."""
    rng = random.Random(5)
    plan = []
    for number in range(keys):
        copies = rng.randint(1, 5)
        plan.append((str(uuid.uuid4()), copies, rng.random() < 0.5, rng.random() < 0.4, number))
    references: dict[str, set[str]] = {}
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def send(key: str, form: dict[str, str], drop: bool) -> None:
        if drop:
            with contextlib.suppress(OSError):
                _raw_post_and_drop(system.base_url, token, key, form)
            with lock:
                statuses[-1] += 1
            return
        with httpx.Client(base_url=system.base_url, timeout=60) as http:
            response = http.post(
                "/api/v1/reports",
                data=form,
                files={"photos": photo_file()},
                headers={
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": key,
                    "X-Forwarded-Proto": "https",
                },
            )
        with lock:
            statuses[response.status_code] += 1
            if response.status_code == 201:
                references.setdefault(key, set()).add(response.json()["reference"])

    for key, copies, together, with_drops, number in plan:
        form = report_form(f"Cùng một báo cáo, gửi {copies} lần ({number})")
        drops = [with_drops and index % 2 == 1 for index in range(copies)]
        if together and copies > 1:
            barrier = threading.Barrier(copies)

            def at_once(
                drop: bool,
                key: str = key,
                form: dict[str, str] = form,
                barrier: threading.Barrier = barrier,
            ) -> None:
                barrier.wait()
                send(key, form, drop)

            threads = [threading.Thread(target=at_once, args=(drop,)) for drop in drops]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        else:
            for drop in drops:
                send(key, form, drop)
    # The app's last retry of each key, until it is answered: every key has its report,
    # and a replay answers with the reference the first 201 gave.
    for key, copies, _together, _drops, number in plan:
        form = report_form(f"Cùng một báo cáo, gửi {copies} lần ({number})")
        for _ in range(30):
            send(key, form, drop=False)
            if key in references:
                break
            time.sleep(0.5)
    rows = system.sql(
        "SELECT k.key, count(r.id), min(r.reference) FROM reports_idempotencykey k "
        "LEFT JOIN reports_report r ON r.id = k.report_id "
        "WHERE k.key = ANY(%s) GROUP BY k.key",
        [key for key, *_ in plan],
    )
    in_db = {key: (count, reference) for key, count, reference in rows}
    (reports_of_stress_user,) = system.sql(
        "SELECT count(*) FROM reports_report r JOIN accounts_user u ON u.id = r.reporter_id "
        "WHERE u.phone = %s AND r.description LIKE 'Cùng một báo cáo%%'",
        CITIZENS[-1],
    )[0]
    return {
        "keys": keys,
        "copies_sent": sum(copies for _, copies, *_ in plan),
        "answers": {str(code): count for code, count in sorted(statuses.items())},
        "keys_with_one_report": sum(1 for key, *_ in plan if in_db.get(key, (0, ""))[0] == 1),
        "keys_answered_with_two_references": sum(
            1 for refs in references.values() if len(refs) > 1
        ),
        "reports_in_database": reports_of_stress_user,
        "answered_reference_matches_database": all(
            references.get(key) == {in_db.get(key, (0, None))[1]} for key, *_ in plan
        ),
    }


# Comparing the log with the database


def in_window(attempt: Attempt, fault: Fault) -> bool:
    """The attempt overlapped the fault's window (start to recovery)."""
    return attempt.started <= fault.recovered and attempt.started + attempt.seconds >= fault.started


def figures(
    system: System, log: ClientLog, faults: list[Fault], recovered: float
) -> dict[str, Any]:
    references = [accepted.reference for accepted in log.accepted]
    rows = system.sql(
        "SELECT r.reference, r.status, "
        " (SELECT count(*) FROM reports_event e WHERE e.report_id = r.id AND e.kind = 'routed'),"
        " (SELECT count(*) FROM reports_event e WHERE e.report_id = r.id"
        "   AND e.kind = 'needs_triage'),"
        " (SELECT min(e.created_at) FROM reports_event e WHERE e.report_id = r.id"
        "   AND e.kind IN ('routed', 'needs_triage')),"
        " r.routing_attempts "
        "FROM reports_report r WHERE r.reference = ANY(%s)",
        references,
    )
    found = {row[0]: row for row in rows}
    lost = [reference for reference in references if reference not in found]
    unrouted = [row[0] for row in rows if row[1] == "submitted"]
    routed_twice = [row[0] for row in rows if row[2] > 1]
    triaged = [row[0] for row in rows if row[3] > 0]
    routed_late = [
        row[0]
        for row in rows
        if row[4] is not None
        and row[4].timestamp()
        > max(recovered, next(a.at for a in log.accepted if a.reference == row[0]))
        + ROUTED_WITHIN_SECONDS
    ]
    last_routing = max((row[4].timestamp() for row in rows if row[4] is not None), default=0)
    (duplicates,) = system.sql(
        "SELECT count(*) FROM (SELECT user_id, event_id FROM reports_notification "
        "WHERE event_id IS NOT NULL GROUP BY user_id, event_id HAVING count(*) > 1) d"
    )[0]
    (events_not_notified,) = system.sql(
        "SELECT count(*) FROM reports_event e JOIN reports_report r ON r.id = e.report_id "
        "WHERE e.notified_at IS NULL AND r.reference = ANY(%s)",
        references,
    )[0]
    (routed_without_reporter_notification,) = system.sql(
        "SELECT count(*) FROM reports_event e JOIN reports_report r ON r.id = e.report_id "
        "WHERE e.kind = 'routed' AND r.reference = ANY(%s) AND NOT EXISTS ("
        " SELECT 1 FROM reports_notification n WHERE n.event_id = e.id"
        " AND n.user_id = r.reporter_id)",
        references,
    )[0]
    (notifications,) = system.sql(
        "SELECT count(*) FROM reports_notification n JOIN reports_report r ON r.id = n.report_id "
        "WHERE r.reference = ANY(%s)",
        references,
    )[0]
    (reports_in_database,) = system.sql(
        "SELECT count(*) FROM reports_report r JOIN accounts_user u ON u.id = r.reporter_id "
        "WHERE u.phone = ANY(%s) AND r.description LIKE 'Đèn đường không sáng (thử lỗi%%'",
        CITIZENS,
    )[0]
    statuses = Counter(attempt.status for attempt in log.attempts)
    per_fault = []
    for fault in faults:
        during = [a for a in log.attempts if in_window(a, fault)]
        per_fault.append(
            {
                "fault": fault.name,
                "note": fault.note,
                "seconds": round(fault.recovered - fault.started, 1),
                "requests": len(during),
                "answers": {
                    str(code): count
                    for code, count in sorted(Counter(a.status for a in during).items())
                },
                "slowest_request_s": round(max((a.seconds for a in during), default=0.0), 2),
            }
        )
    redis_faults = [f for f in faults if f.name.startswith("Redis")]
    during_redis = [a for a in log.attempts if any(in_window(a, f) for f in redis_faults)]
    postgres = [f for f in faults if f.name.startswith("PostgreSQL")]
    during_pg = [a for a in log.attempts if any(in_window(a, f) for f in postgres)]
    return {
        "reports_accepted": len(references),
        "reports_given_up_by_the_client": len(log.given_up),
        "reports_in_database": reports_in_database,
        "accepted_reports_lost": len(lost),
        "accepted_reports_unrouted": len(unrouted),
        "routed_share_within_4_min_of_recovery": (
            round(100.0 * (len(rows) - len(unrouted) - len(routed_late)) / len(references), 1)
            if references
            else 0.0
        ),
        "last_routing_after_recovery_s": round(max(0.0, last_routing - recovered), 1),
        "reports_routed_twice": len(routed_twice),
        "reports_sent_to_triage": len(triaged),
        "notifications": notifications,
        "duplicate_notifications": duplicates,
        "events_not_notified": events_not_notified,
        "routed_without_reporter_notification": routed_without_reporter_notification,
        "requests": len(log.attempts),
        "answers": {str(code): count for code, count in sorted(statuses.items())},
        "server_errors_500": statuses.get(500, 0),
        "slowest_request_while_redis_down_or_paused_s": round(
            max((a.seconds for a in during_redis), default=0.0), 2
        ),
        "requests_over_5s_or_unanswered_while_redis_down_or_paused": sum(
            1 for a in during_redis if a.seconds > SLOW_SECONDS or a.status == 0
        ),
        "answers_while_postgres_away": {
            str(code): count for code, count in sorted(Counter(a.status for a in during_pg).items())
        },
        "faults": per_fault,
        "health_probes": system.probes,
        "lost_references": lost[:20],
        "unrouted_references": unrouted[:20],
    }


def probes_missed(probes: dict[str, dict[str, Any]]) -> list[str]:
    """Readiness says 503 naming what is down during an outage and 200 after; liveness
    answers 200 throughout."""
    missed = []
    for fault, named in (("PostgreSQL restarted", "database"), ("Redis stopped", "cache")):
        seen = probes.get(fault)
        if seen is None:
            missed.append(f"no health probes during '{fault}'")
            continue
        if not seen["ready_answers"].get("503") or named not in seen["down_named"]:
            missed.append(f"readiness did not answer 503 naming {named} during '{fault}'")
        if seen.get("ready_again_after_s") is None:
            missed.append(f"readiness did not answer 200 again after '{fault}'")
        if set(seen["live_answers"]) != {"200"}:
            missed.append(f"liveness did not answer 200 throughout '{fault}'")
    return missed


def targets_missed(result: dict[str, Any]) -> list[str]:
    missed = []
    if result["accepted_reports_lost"]:
        missed.append("accepted reports lost")
    if result["reports_accepted"] == 0:
        missed.append("no report was accepted")
    if result["routed_share_within_4_min_of_recovery"] < 100.0:
        missed.append("not every report routed within 4 minutes of recovery")
    if result["reports_routed_twice"]:
        missed.append("reports routed twice")
    if result["duplicate_notifications"] or result["events_not_notified"]:
        missed.append("duplicate or lost notifications")
    if result["routed_without_reporter_notification"]:
        missed.append("a reporter was not told their report was routed")
    if result["requests_over_5s_or_unanswered_while_redis_down_or_paused"]:
        missed.append("requests over 5 s while Redis was down or paused")
    if result["server_errors_500"]:
        missed.append("500 answers")
    pg = result["answers_while_postgres_away"]
    if not pg.get("503"):
        missed.append("no 503 while PostgreSQL was away")
    if result["reports_given_up_by_the_client"]:
        missed.append("reports the client could not file in 10 minutes")
    if result["reports_in_database"] != result["reports_accepted"]:
        missed.append("the database holds another number of reports than the client filed")
    missed.extend(probes_missed(result.get("health_probes", {})))
    stress = result.get("idempotency")
    if stress and (
        stress["keys_with_one_report"] != stress["keys"]
        or stress["reports_in_database"] != stress["keys"]
        or stress["keys_answered_with_two_references"]
        or not stress["answered_reference_matches_database"]
    ):
        missed.append("idempotency: not exactly one report per key")
    return missed


def print_figures(result: dict[str, Any], command: str) -> None:
    out("\n=== Fault-injection figures")
    out(f"command: {command}")
    width = max(len(key) for key in result)
    for key, value in result.items():
        if key in ("faults", "idempotency", "health_probes"):
            continue
        out(f"{key:<{width}}  {value}")
    out("\nper fault (requests overlapping the fault's window):")
    for fault in result["faults"]:
        out(
            f"  {fault['fault']:<34} {fault['seconds']:>6.1f} s  {fault['requests']:>4} requests"
            f"  answers {fault['answers']}  slowest {fault['slowest_request_s']} s"
            f"  ({fault['note']})"
        )
    out("\nhealth probes during the outages (every second):")
    for fault, seen in result.get("health_probes", {}).items():
        out(f"  {fault:<34} {seen}")
    stress = result.get("idempotency")
    if stress:
        out("\nidempotency stress:")
        for key, value in stress.items():
            out(f"  {key:<40} {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--short", action="store_true", help="the CI form (a few minutes)")
    form.add_argument("--long", action="store_true", help="longer outages, more traffic")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    # SIGTERM (a CI timeout, ^C from a supervisor) unwinds through the `finally` below, which
    # stops every process of the run.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    name = "long" if args.long else "short"
    profile = PROFILES[name]
    command = f"{Path(sys.executable).name} tests/fault/run.py --{name}"
    workdir = Path(tempfile.mkdtemp(prefix="hues-fault-"))
    workdir.chmod(0o755)
    say(f"Working in {workdir} ({name} form)")
    system: System | None = None
    client: Client | None = None
    try:
        system = start_system(workdir)
        say(
            f"gunicorn on :{system.web_port}, PostgreSQL on :{system.pg_port}, "
            f"Redis on :{system.redis_port}"
        )
        log = ClientLog()
        client = Client(system.base_url, tokens(system)[:-1], log)
        feeder = threading.Thread(target=client.run, args=(profile.rate,), daemon=True)
        feeder.start()
        faults: list[Fault] = []
        time.sleep(profile.steady)
        for inject in FAULTS:
            say(f"Injecting: {inject.__name__}")
            faults.append(inject(system, profile))
            say(f"  recovered after {faults[-1].recovered - faults[-1].started:.1f} s")
            time.sleep(profile.steady)
        recovered = faults[-1].recovered
        client.finish()
        say(f"Client stopped: {len(log.accepted)} reports accepted; waiting for routing...")
        references = [accepted.reference for accepted in log.accepted]
        # A report's `created` event has no one to tell: the sweeper marks it, once it is
        # NOTIFY_SWEEP_AFTER old, on its next run (each minute). A logical report whose key
        # stayed in flight after the PostgreSQL restart may be accepted just before the
        # client stops: the wait covers its sweep too.
        last_accepted = max((accepted.at for accepted in log.accepted), default=recovered)
        deadline = max(recovered + ROUTED_WITHIN_SECONDS, last_accepted + SWEPT_WITHIN_SECONDS)
        deadline += 30

        def all_done() -> bool:
            (pending,) = system.sql(
                "SELECT count(*) FROM reports_report r WHERE r.reference = ANY(%s) AND ("
                " r.status = 'submitted' OR EXISTS (SELECT 1 FROM reports_event e"
                "  WHERE e.report_id = r.id AND e.notified_at IS NULL))",
                references,
            )[0]
            return bool(pending == 0)

        while now() < deadline and not all_done():
            time.sleep(2)
        say("Idempotency stress...")
        stress_token = tokens(system)[-1]
        stress = idempotency_stress(system, stress_token, profile.stress_keys)
        result = figures(system, log, faults, recovered)
        result["idempotency"] = stress
    finally:
        if client is not None:
            client.stop.set()
        if system is not None:
            system.stack.stop_all()
    print_figures(result, command)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    missed = targets_missed(result)
    if missed:
        out("\nTARGETS MISSED: " + "; ".join(missed))
        for proc in system.stack.procs if system else []:
            out(f"\n--- {proc.name} log (tail) ---\n{proc.tail(2000)}")
        out(f"(logs kept in {workdir})")
        return 1
    out("\nAll targets met.")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
