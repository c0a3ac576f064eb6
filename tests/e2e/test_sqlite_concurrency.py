"""The embedded default under concurrency: several clients filing at once against bin/serve's
set-up (SQLite file, no broker: routing runs in the web process after each commit) all get
201, and the server never says "database is locked".

The server is a real process on a file database, served by runserver (what bin/serve runs)
and by gunicorn with threads; hues/settings.py gives SQLite WAL, a busy timeout and
IMMEDIATE transactions.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fault.harness import (
    PYTHON,
    Proc,
    base_env,
    free_port,
    login,
    manage,
    photo_file,
    port_open,
    report_form,
    wait_for,
)

pytestmark = pytest.mark.e2e

CLIENTS = 8
REPORTS_EACH = 6


def _env(database: Path, tmp: Path) -> dict[str, str]:
    return base_env(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{database}",
        MEDIA_ROOT=str(tmp / "media"),
        SMS_BACKEND="file",
        SMS_FILE_DIR=str(tmp / "sms"),
        LOG_LEVEL="WARNING",
    )


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data (and demo users, DEBUG on), made once."""
    tmp = tmp_path_factory.mktemp("sqlite-template")
    database = tmp / "db.sqlite3"
    env = _env(database, tmp)
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo", "--reports", "0")  # reference data and users; no demo reports
    return database


SERVERS = {
    "runserver": lambda port: [
        PYTHON,
        "manage.py",
        "runserver",
        "--noreload",
        f"127.0.0.1:{port}",
    ],
    "gunicorn-threads": lambda port: [
        PYTHON,
        "-m",
        "gunicorn",
        "hues.wsgi",
        "--workers",
        "2",
        "--threads",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
    ],
}


@pytest.fixture(params=sorted(SERVERS))
def server(
    request: pytest.FixtureRequest, seeded_database: Path, tmp_path: Path
) -> Iterator[tuple[str, Path, Proc]]:
    database = tmp_path / "db.sqlite3"
    shutil.copy(seeded_database, database)
    port = free_port()
    proc = Proc(
        name=request.param,
        argv=SERVERS[request.param](port),
        env=_env(database, tmp_path),
        log=tmp_path / "server.log",
    ).start()
    try:
        wait_for(lambda: port_open(port), timeout=60, what=f"{request.param} to listen")
        yield f"http://127.0.0.1:{port}", database, proc
    finally:
        proc.stop()


def test_clients_filing_at_once_on_sqlite_all_get_201(server: tuple[str, Path, Proc]) -> None:
    base_url, database, proc = server
    token = login(base_url)
    statuses: list[int] = []
    errors: list[str] = []
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            start.wait()
            for index in range(REPORTS_EACH):
                response = http.post(
                    "/api/v1/reports",
                    data=report_form(f"Đèn đường hỏng, khách {number}, lần {index}"),
                    files={"photos": photo_file()},
                )
                statuses.append(response.status_code)
                if response.status_code != 201:
                    errors.append(response.text[:300])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    log = proc.tail(200_000)
    assert "database is locked" not in log, log[-3000:]
    assert errors == [], errors[:3]
    assert statuses == [201] * (CLIENTS * REPORTS_EACH)
    with sqlite3.connect(database) as db:
        (filed,) = db.execute("SELECT count(*) FROM reports_report").fetchone()
        (routed,) = db.execute(
            "SELECT count(*) FROM reports_report WHERE status != 'submitted'"
        ).fetchone()
        (journal,) = db.execute("PRAGMA journal_mode").fetchone()
    assert filed == CLIENTS * REPORTS_EACH
    assert routed == filed  # routed in the web process, after each commit
    assert journal == "wal"
