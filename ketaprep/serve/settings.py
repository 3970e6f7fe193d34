"""What a `ketaprep serve` run was started with: its address, its secrets and the clinic's defaults."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ketaprep.loader import SetLibrary
from ketaprep.models import Clinic
from ketaprep.timefmt import Clock

MAX_FORM_BYTES = 64 * 1024
"""A form without a file: a few fields; anything larger is refused before it is read."""
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""A day's list: a clinic's export of one day is a few kilobytes; 5 MB is thousands of rows."""
MAX_LIST_ROWS = 2000
"""Rows of one uploaded list: a day's list, with room to spare; larger lists go through `ketaprep batch`."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_loopback(host: str) -> bool:
    """127.0.0.1, ::1 or localhost: this computer alone."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """One run of the server: the secret token of its printed address, and the clinic it serves."""

    host: str
    port: int
    library: SetLibrary
    clinic: Clinic | None = None
    zone: str = "America/Toronto"
    templates_dir: Path | None = None
    clock: Clock | None = None
    allow_network: bool = False
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    now: Callable[[], dt.datetime] = _utc_now
    printer: str | None = None

    @property
    def cookie_name(self) -> str:
        """One cookie per port: cookies are shared by every port of 127.0.0.1, ports are not."""
        return f"ketaprep_{self.port}"

    @property
    def address(self) -> str:
        """The address to open in a browser on this computer (without the token)."""
        host = self.host
        if not is_loopback(host):
            host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a name, not a bind)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    @property
    def url(self) -> str:
        return f"{self.address}?token={self.token}"

    def allowed_hosts(self) -> frozenset[str]:
        """Host headers this server answers: its own address and port only (DNS rebinding gets 421).

        On the network (`--allow-network`) a browser elsewhere names the machine by its IP
        address or host name; a name the machine does not have (an attacker's domain that
        resolves here) is still refused.
        """
        port = self.port
        names = {"127.0.0.1", "localhost", "[::1]"}
        if not is_loopback(self.host):
            names.add(self.host if ":" not in self.host else f"[{self.host}]")
            for name in (socket.gethostname(), socket.getfqdn()):
                names.add(name.lower())
                try:
                    for info in socket.getaddrinfo(name, None):
                        address = str(info[4][0])
                        names.add(f"[{address}]" if ":" in address else address)
                except OSError:
                    pass
        return frozenset(f"{name}:{port}" for name in names)
