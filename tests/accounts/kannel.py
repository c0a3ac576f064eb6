"""A real Kannel for the tests: Debian's bearerbox and smsbox (package kannel), with Kannel's
own fake SMS centre, fakesmsc (package kannel-extras), as the carrier. fakesmsc prints every
message bearerbox hands it ("Got message N: <from to type data>"); `messages()` reads them
back as the phone would show them.

`Kannel(directory).start()` writes a kannel.conf on free loopback ports and starts the three
processes; `stop()` stops bearerbox (smsbox and fakesmsc go with it), as when the gateway's
machine goes down; `start()` again brings them back.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
USERNAME = "hues"
PASSWORD = "sendsms-secret"
ADMIN_PASSWORD = "admin-secret"

_LINE = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>$")


def installed() -> bool:
    return BEARERBOX.exists() and SMSBOX.exists() and FAKESMSC.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """A message as fakesmsc (the carrier) received it."""

    sender: str
    to: str
    text: str


def _decode(kind: str, data: str) -> str:
    if kind == "text":
        return data
    raw = urllib.parse.unquote_to_bytes(data.replace("+", " "))
    return raw.decode("utf-16-be") if kind in ("ucs-2", "ucs2") else raw.decode("latin-1")


class Kannel:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.admin_port = _free_port()
        self.box_port = _free_port()
        self.smsc_port = _free_port()
        self.sendsms_port = _free_port()
        self.carrier_log = directory / "fakesmsc.log"
        self.config = directory / "kannel.conf"
        self.config.write_text(self._config())
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    def _config(self) -> str:
        d = self.directory
        return f"""
group = core
admin-port = {self.admin_port}
admin-password = {ADMIN_PASSWORD}
smsbox-port = {self.box_port}
box-allow-ip = 127.0.0.1
log-file = "{d}/bearerbox.log"
log-level = 1
store-type = file
store-location = "{d}/store"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = carrier
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
log-file = "{d}/smsbox.log"
log-level = 1
http-request-retry = 5
http-queue-delay = 1

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
concatenation = true
max-messages = 3
"""

    def _spawn(self, name: str, *command: str) -> None:
        with (self.directory / f"{name}.out").open("ab") as output:
            self.processes.append(
                subprocess.Popen(
                    command, stdout=output, stderr=subprocess.STDOUT, cwd=self.directory
                )
            )

    def _status(self) -> str:
        try:
            return httpx.get(
                f"http://127.0.0.1:{self.admin_port}/status.txt",
                params={"password": ADMIN_PASSWORD},
                timeout=2,
            ).text
        except httpx.HTTPError:
            return ""

    def start(self, timeout: float = 30) -> None:
        """Start bearerbox, the fake carrier and smsbox; return once a message can go all
        the way (the carrier link online and smsbox connected)."""
        self._spawn("bearerbox", str(BEARERBOX), "-v", "1", str(self.config))
        self._wait(lambda: "Status: running" in self._status(), timeout, "bearerbox")
        with self.carrier_log.open("ab") as output:
            self.processes.append(
                subprocess.Popen(
                    [
                        str(FAKESMSC),
                        *("-H", "127.0.0.1", "-r", str(self.smsc_port), "-m", "0"),
                        "1 2 text unused",  # what it would send us: nothing (-m 0)
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                )
            )
        self._spawn("smsbox", str(SMSBOX), "-v", "1", str(self.config))
        self._wait(
            lambda: (
                "carrier" in self._status()
                and "online" in self._status()
                and "smsbox:" in self._status()
            ),
            timeout,
            "the carrier link and smsbox",
        )

    def _wait(self, ready: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():  # type: ignore[operator]
                return
            time.sleep(0.2)
        raise RuntimeError(f"Kannel: {what} not ready after {timeout} s:\n{self.logs()}")

    def stop(self) -> None:
        """Stop bearerbox, as when the gateway goes down: smsbox and the carrier go with it."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes = []
        # A sendsms port that still answers would not be "down".
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.sendsms_port), timeout=1),
        ):
            raise RuntimeError("smsbox still listens after the stop")

    def messages(self) -> list[Received]:
        """Every message the carrier received, decoded (UCS-2 back to text)."""
        if not self.carrier_log.exists():
            return []
        found = []
        for line in self.carrier_log.read_text(errors="replace").splitlines():
            match = _LINE.search(line)
            if match:
                sender, to, kind, data = match.groups()
                found.append(Received(sender, to, _decode(kind, data)))
        return found

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log", "fakesmsc.log", "bearerbox.out", "smsbox.out"):
            path = self.directory / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)
