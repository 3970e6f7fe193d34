"""`ketaprep serve`'s security, proven with plain HTTP requests against a real server process.

(The same points in a real browser are in tests/test_serve_browser.py.)
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_harness import Server, csrf_of, form_body, multipart, request, start_server

NAME = "Zelda Quixote-Testperson"
GOOD = {"patient": NAME, "date": "2027-02-02", "start": "9:00", "set": "iv-pain-4h", "lang": "en",
        "paper": "letter"}
LIST = (
    "Patient,Date,Time,Set\n"
    f'"{NAME}",2027-02-02,9:00,iv-pain-4h\n'
    '"Ada Test",2027-02-02,25:00,iv-pain-4h\n'
).encode()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scratch")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="module")
def server(scratch: Path, workdir: Path) -> Iterator[Server]:
    running = start_server(env={"TMPDIR": str(scratch), "SOURCE_DATE_EPOCH": "1795000000"}, cwd=workdir)
    yield running
    running.stop()


def post(server: Server, path: str, fields: dict[str, str], **kwargs: object) -> object:
    body, headers = form_body({"csrf": csrf_of(server), **fields})
    return request(server, "POST", path, body=body, headers=headers, **kwargs)  # type: ignore[arg-type]


# --- the token ------------------------------------------------------------------------------


def test_no_token_is_403_on_every_page(server: Server) -> None:
    for method, path in [("GET", "/"), ("GET", "/list"), ("GET", "/static/form.css"), ("POST", "/"),
                         ("POST", "/handout.pdf"), ("GET", "/nothing-here")]:
        reply = request(server, method, path, cookie=False, body=b"" if method == "POST" else None)
        assert reply.status == 403, (method, path)
        assert "Open the address that ketaprep serve printed" in reply.text


def test_a_wrong_token_is_403(server: Server) -> None:
    assert request(server, "GET", "/?token=not-the-token", cookie=False).status == 403
    reply = request(server, "GET", "/", cookie=False, headers={"Cookie": f"ketaprep_{server.port}=guess"})
    assert reply.status == 403


def test_the_printed_address_sets_an_httponly_strict_cookie_and_redirects_to_a_clean_url(server: Server) -> None:
    assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
    reply = request(server, "GET", f"/?token={server.token}", cookie=False)
    assert reply.status == 303
    assert reply.headers["location"] == "/"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"ketaprep_{server.port}={server.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert request(server, "GET", "/").status == 200  # the cookie alone is enough from now on


def test_the_token_is_never_taken_on_a_post(server: Server) -> None:
    body, headers = form_body({"csrf": csrf_of(server), **GOOD})
    reply = request(server, "POST", f"/?token={server.token}", body=body, headers=headers, cookie=False)
    assert reply.status == 403


# --- the Host header (DNS rebinding) ----------------------------------------------------------


def test_dns_rebinding_another_host_name_is_421(server: Server) -> None:
    for host in ("evil.example", f"evil.example:{server.port}", f"127.0.0.1:{server.port + 1}", "127.0.0.1", ""):
        reply = request(server, "GET", "/", host=host)
        assert reply.status == 421, host
        assert "answers only at the address ketaprep serve printed" in reply.text
    assert request(server, "GET", "/", host=f"localhost:{server.port}").status == 200


# --- POST: CSRF field and Origin ----------------------------------------------------------------


def test_a_post_without_the_csrf_field_is_403(server: Server) -> None:
    body, headers = form_body(GOOD)
    assert request(server, "POST", "/", body=body, headers=headers).status == 403
    body, headers = form_body({"csrf": "forged", **GOOD})
    assert request(server, "POST", "/", body=body, headers=headers).status == 403


def test_a_cross_site_post_is_403(server: Server) -> None:
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{server.port + 1}", f"https://{server.host}"):
        reply = post(server, "/", GOOD, origin=origin)
        assert reply.status == 403, origin  # type: ignore[attr-defined]
        assert NAME not in reply.text  # type: ignore[attr-defined]
    assert post(server, "/", GOOD, origin=None).status == 403  # type: ignore[attr-defined]
    assert post(server, "/", GOOD).status == 200  # type: ignore[attr-defined]


def test_only_get_and_post_are_answered(server: Server) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        assert request(server, method, "/", body=b"").status == 405


# --- Content-Security-Policy, no external asset ------------------------------------------------


def _policy(reply: object) -> dict[str, str]:
    header = reply.headers["content-security-policy"]  # type: ignore[attr-defined]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_every_response_carries_a_strict_content_security_policy(server: Server) -> None:
    replies = [
        request(server, "GET", "/"),
        request(server, "GET", "/list"),
        request(server, "GET", "/static/form.js"),
        request(server, "GET", "/", cookie=False),
        request(server, "GET", "/", host="evil.example"),
        post(server, "/", GOOD),
        post(server, "/", {**GOOD, "start": "25:00"}),
        post(server, "/handout.pdf", GOOD),
        post(server, "/print", GOOD),
    ]
    for reply in replies:
        policy = _policy(reply)
        assert policy["default-src"] == "default-src 'none'"
        assert "'unsafe-inline'" not in policy.get("script-src", "") and "'unsafe-eval'" not in str(policy)
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert policy["base-uri"] == "base-uri 'none'"
        assert "http:" not in str(policy) and "https:" not in str(policy) and "*" not in str(policy)
        assert reply.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
        assert reply.headers["x-content-type-options"] == "nosniff"  # type: ignore[attr-defined]
    shown = _policy(replies[5])
    assert shown["style-src"].startswith("style-src 'self' 'sha256-")  # the handout's style, by its hash only


def test_no_page_loads_an_external_asset(server: Server) -> None:
    for reply in (request(server, "GET", "/"), request(server, "GET", "/list"), post(server, "/", GOOD)):
        text = reply.text  # type: ignore[attr-defined]
        for found in re.findall(r'(?:src|href|action|formaction)="([^"]*)"', text):
            assert found.startswith(("/", "#", "data:")), found
        assert "http://" not in text.replace("&#34;", '"').split("<iframe")[0].lower().replace(
            "http://www.w3.org", "")
        assert "https://" not in text


# --- uploads bounded ------------------------------------------------------------------------------


def test_an_upload_larger_than_the_limit_is_refused_with_a_clear_message(server: Server) -> None:
    body, headers = multipart({"csrf": csrf_of(server, "/list")}, {"list": ("big.csv", b"x" * (5 * 1024 * 1024 + 10))})
    reply = request(server, "POST", "/list", body=body, headers=headers)
    assert reply.status == 413
    assert "The file is larger than 5 MB" in reply.text
    body, headers = form_body({"csrf": csrf_of(server), "patient": "x" * 70_000})
    reply = request(server, "POST", "/", body=body, headers=headers)
    assert reply.status == 413
    assert "The form sent more than 64 KB" in reply.text


def test_a_list_with_more_rows_than_a_day_is_refused_with_a_clear_message(server: Server) -> None:
    rows = "".join(f"Test Patient {n},2027-02-02,9:00,iv-pain-4h\n" for n in range(2001))
    body, headers = multipart({"csrf": csrf_of(server, "/list")},
                              {"list": ("long.csv", ("Patient,Date,Time,Set\n" + rows).encode())})
    reply = request(server, "POST", "/list", body=body, headers=headers)
    assert reply.status == 422
    assert "long.csv: more than 2000 rows; the form takes one day&#39;s list" in reply.text


# --- nothing on disk, nothing in the logs --------------------------------------------------------


def test_no_patient_data_is_left_on_disk(server: Server, scratch: Path, workdir: Path) -> None:
    csrf = csrf_of(server, "/list")
    body, headers = multipart({"csrf": csrf}, {"list": ("today.csv", LIST)})
    page = request(server, "POST", "/list", body=body, headers=headers)
    assert page.status == 200
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    for path in ("/list/pdf", "/list/zip"):
        body, headers = form_body({"csrf": csrf, "key": key.group(1)})
        reply = request(server, "POST", path, body=body, headers=headers)
        assert reply.status == 200 and reply.headers["content-disposition"].startswith("attachment")
    assert post(server, "/handout.pdf", GOOD).status == 200  # type: ignore[attr-defined]
    assert list(scratch.iterdir()) == []  # the scratch copies are gone once the answer is sent
    assert list(workdir.iterdir()) == []
    assert not list(Path("/dev/shm").glob("ketaprep-serve-*"))  # noqa: S108


def test_nothing_is_logged_with_a_name(server: Server) -> None:
    post(server, "/", GOOD)
    post(server, "/", {**GOOD, "start": "25:00"})
    post(server, "/handout.ics", GOOD)
    request(server, "GET", f"/?patient={NAME.replace(' ', '+')}")
    body, headers = multipart({"csrf": csrf_of(server, "/list")}, {"list": ("today.csv", LIST)})
    request(server, "POST", "/list", body=body, headers=headers)
    output = server.output()
    assert NAME not in output and "Zelda" not in output and "Ada Test" not in output
    assert "GET /" not in output and "POST /" not in output  # no access log at all


# --- loopback only --------------------------------------------------------------------------------


def _listening(port: int) -> list[str]:
    """Local addresses of the sockets listening on `port`, from the kernel's own table."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, _remote, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":
                found.append(address)
    return found


def test_it_listens_on_loopback_only(server: Server) -> None:
    assert _listening(server.port) == ["0100007F"]  # 127.0.0.1, and nothing else
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this asks which address would be used
        outside = probe.getsockname()[0]
    except OSError:
        outside = None
    finally:
        probe.close()
    if outside and not outside.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((outside, server.port), timeout=2).close()


def test_a_non_loopback_host_is_refused_unless_stated_twice() -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "ketaprep", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[:2] == [
        "error: --host 0.0.0.0 would let other computers reach patients' names;",
        "  the form is for this computer (127.0.0.1); add --allow-network to allow it",
    ]
    assert max(len(line) for line in done.stderr.splitlines()) <= 80


def test_allow_network_listens_beyond_loopback_with_a_warning() -> None:
    running = start_server("--host", "0.0.0.0", "--allow-network")
    try:
        assert _listening(running.port) == ["00000000"]
        assert "warning: the form listens on 0.0.0.0: other computers on the network can reach it,\n" \
               "  and what is typed there crosses the network unencrypted" in running.output()
        assert request(running, "GET", "/", cookie=False).status == 403  # still the token
        assert request(running, "GET", "/", host=f"evil.example:{running.port}").status == 421
    finally:
        running.stop()


# --- start and stop ------------------------------------------------------------------------------


def test_ctrl_c_stops_it_cleanly() -> None:
    running = start_server()
    assert running.stop() == 0
    output = running.output()
    assert "Traceback" not in output
    assert "".join(running.lines).splitlines()[-1] == "stopped."


def test_a_port_in_use_is_a_plain_error(server: Server) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "ketaprep", "serve", "--port", str(server.port)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert f"error: port {server.port} is already in use (is ketaprep serve already running?); " \
           "choose another with --port" in done.stderr
    assert "http://" not in done.stdout
