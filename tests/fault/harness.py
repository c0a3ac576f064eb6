"""Real processes on loopback for the fault-injection suite and the concurrency tests.

Every process is started here, in a session of its own, and is stopped, paused or killed
only by the process id this module recorded: nothing else on the machine is touched (the
shared PostgreSQL and Redis keep running whatever happens here).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# The demo citizen of seed_demo (DEBUG on) and the password of every demo user.
DEMO_CITIZEN = "0900000006"
DEMO_PASSWORD = "hue-demo-2026"
PHU_XUAN_POINT = (16.4821, 107.57612)


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the harness dies, however it dies (a timeout's
    SIGKILL included), so no server of a run outlives it (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll another process until it shows `what`, or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Proc:
    """One process this harness started (in its own session, so its children too)."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    user: str | None = None
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def start(self) -> Proc:
        argv = list(self.argv)
        as_user: dict[str, object] = {}
        if self.user:
            # Popen switches user itself, so the recorded id is the server's own.
            entry = pwd.getpwnam(self.user)
            as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        output = self.log.open("ab")
        output.write(f"\n--- start {self.name} at {time.strftime('%H:%M:%S')}\n".encode())
        output.flush()
        self.popen = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            **as_user,  # type: ignore[arg-type]
        )
        output.close()
        self.starts += 1
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Signal this process (by its id), never anything found by name."""
        if self.alive():
            os.kill(self.pid, sig)

    def kill9(self) -> None:
        """SIGKILL the process and whatever it started (its session's process group)."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
        # Children left behind by a killed parent (gunicorn's or celery's workers).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def children(self) -> list[int]:
        """Process ids of this process's direct children (Linux /proc)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except (OSError, ValueError):
            return []

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Stack:
    """Processes started for one run, stopped in reverse order at the end."""

    workdir: Path
    procs: list[Proc] = field(default_factory=list)

    def add(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.stop()


# PostgreSQL and Redis of our own


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def redis_server() -> str | None:
    return shutil.which("redis-server")


def make_postgres(stack: Stack, *, user: str = "postgres") -> tuple[Proc, int]:
    """initdb in a temporary directory (as the postgres user: the server refuses root) and a
    server on a free port, with its socket in that directory too."""
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL server binaries (postgresql) are not installed"
    data = stack.workdir / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(stack.workdir, user)
        shutil.chown(data, user)
        run_as = ["runuser", "-u", user, "--"]
    else:
        run_as, user = [], ""
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    proc = Proc(
        name="postgres",
        argv=[
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(stack.workdir),
            "-c",
            "max_connections=100",
            "-c",
            "fsync=off",
        ],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        log=stack.workdir / "postgres.log",
        user=user or None,
    )
    stack.add(proc).start()
    wait_for(lambda: port_open(port), timeout=60, what="PostgreSQL to accept connections")
    return proc, port


def make_redis(stack: Stack) -> tuple[Proc, int]:
    server = redis_server()
    assert server is not None, "redis-server is not installed"
    port = free_port()
    data = stack.workdir / "redis"
    data.mkdir()
    proc = Proc(
        name="redis",
        argv=[
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data),
            "--save",
            "",
            # Like a production Redis: what is queued survives a restart (append-only file).
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        log=stack.workdir / "redis.log",
    )
    stack.add(proc).start()
    wait_for(lambda: port_open(port), timeout=30, what="Redis to accept connections")
    return proc, port


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def base_env(**extra: str) -> dict[str, str]:
    """The environment for the project's processes: this one's, less anything that points
    at the machine's shared services."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith("PYTEST")
    }
    env.update(extra)
    return env


# The mobile app, as far as filing goes


def login(base_url: str, phone: str = DEMO_CITIZEN, password: str = DEMO_PASSWORD) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token", json={"phone": phone, "password": password}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access"])


def report_form(description: str) -> dict[str, str]:
    return {
        "category": "street_lighting",
        "description": description,
        "lat": str(PHU_XUAN_POINT[0]),
        "lng": str(PHU_XUAN_POINT[1]),
    }


def photo_file() -> tuple[str, bytes, str]:
    from tests.images import image_bytes

    return ("street.jpg", image_bytes("JPEG", size=(64, 48)), "image/jpeg")
