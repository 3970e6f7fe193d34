"""`ketaprep serve` for the tests: a real server in a subprocess, plain HTTP, and a real Chromium.

The server runs on a free port (`--port 0`); its address is the first line on stdout that
starts with `http://`, exactly as a nurse or the clinic's desktop shortcut reads it.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
AXE_ENV = "KETAPREP_AXE_JS"
"""The path of axe-core's axe.min.js (`.ci/run` installs axe-core from npm and sets it)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, what: str) -> None:
    """Skip locally when a tool is missing; fail under CI=true (CI must not pass by skipping)."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} is not available")


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str  # the printed address, with its token
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.url.split("?", 1)[0]

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.url).port or 0)

    @property
    def token(self) -> str:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)["token"][0]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        time.sleep(0.2)
        return "".join(self.lines) + "".join(self.errors)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def _pump(stream: Any, into: list[str]) -> None:
    for line in iter(stream.readline, ""):
        into.append(line)
    stream.close()


def start_server(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Server:
    """`ketaprep serve --port 0 ARGS` in a subprocess; wait for its first `http://` line."""
    command = [sys.executable, "-m", "ketaprep", "serve", "--port", "0", *args]
    full_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(  # noqa: S603 (our own command)
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=cwd
    )
    lines: list[str] = []
    errors: list[str] = []
    assert process.stdout is not None and process.stderr is not None
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, errors), daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [line for line in lines if line.startswith("http://")]
        if found:
            server = Server(process, found[0].strip(), lines, errors)
            _wait_listening(server)
            return server
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"ketaprep serve printed no address: {''.join(lines)}{''.join(errors)}")


def _wait_listening(server: Server) -> None:
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            connection.request("GET", "/static/form.css")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.05)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(server: Server, method: str, path: str, *, body: bytes | None = None,
            headers: dict[str, str] | None = None, cookie: bool = True, host: str | None = None,
            origin: str | None | bool = True) -> Reply:
    """One plain HTTP request (no browser): the token cookie, Host and Origin as asked."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    sent = {"Host": host if host is not None else server.host}
    if cookie:
        sent["Cookie"] = f"ketaprep_{server.port}={server.token}"
    if method == "POST" and origin is True:
        sent["Origin"] = f"http://{server.host}"
    elif isinstance(origin, str):
        sent["Origin"] = origin
    sent.update(headers or {})
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in sent.items():
        connection.putheader(key, value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)


def csrf_of(server: Server, path: str = "/") -> str:
    page = request(server, "GET", path).text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the page has no CSRF field"
    return match.group(1)


def form_body(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, dict[str, str]]:
    boundary = "----ketaprep-test-boundary-7d1f"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def browser_or_skip() -> Iterator[Any]:
    """A Playwright Chromium: Debian's /usr/bin/chromium (never a downloaded browser)."""
    need(Path(CHROMIUM).exists(), CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package (pip install '.[test]')")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def axe_source() -> str:
    path = os.environ.get(AXE_ENV, "")
    need(bool(path) and Path(path).is_file(), f"axe-core (set {AXE_ENV} to axe.min.js)")
    return Path(path).read_text(encoding="utf-8")
