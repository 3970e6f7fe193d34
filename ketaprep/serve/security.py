"""The guard every request passes before any page sees it.

In order: the Host header must name this server (a DNS-rebinding page gets 421); the
request must carry this run's token, either once in the printed address (which sets an
HttpOnly, SameSite=Strict cookie and redirects to the same page without it) or in that
cookie (otherwise 403); a POST must come from this server's own pages (its Origin, 403
otherwise; the CSRF field is checked by the page that reads the form) and its body is
bounded before it is read (413). Every response gets a strict Content-Security-Policy,
no caching (a patient's sheet never lands in the browser's disk cache) and no referrer.
An unexpected error answers 500 and logs one line that names no value.
"""

from __future__ import annotations

import hmac
import ipaddress
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ketaprep.serve.settings import MAX_FORM_BYTES, MAX_UPLOAD_BYTES, Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
UPLOAD_PATHS = ("/list",)


def _page(title: str, text: str) -> bytes:
    """A minimal page for a refusal (no template: the guard answers before the app exists)."""
    from markupsafe import escape

    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><main><h1>{escape(title)}</h1><p>{escape(text)}</p></main></body></html>\n"
    ).encode()


NO_TOKEN = (
    "Open the address that ketaprep serve printed when it started (it holds a secret that changes "
    "each time the form starts), or start the form again."
)


class Guard:
    """Pure ASGI middleware: the security rules above, in front of the whole application."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = settings.allowed_hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        try:
            await self._guarded(scope, receive, send)
        except Exception as exc:  # the last resort: one line, no value (a name could be in it)
            sys.stderr.write(f"error: unexpected {type(exc).__name__} while answering a request\n")
            sys.stderr.flush()
            raise

    def _host_ok(self, host: str) -> bool:
        host = host.lower()
        if host in self.hosts:
            return True
        if not self.settings.allow_network:
            return False
        name, _, port = host.rpartition(":")
        if port != str(self.settings.port):
            return False
        try:  # an IP address cannot be rebound to another machine; a domain name can
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            return False
        return True

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not self._host_ok(headers.get("host", "")):
            await _answer(send, 421, "Wrong address", "This form answers only at the address ketaprep serve printed.")
            return
        method = scope["method"]
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [value for key, value in query if key == "token"]
        if given:
            if method in ("GET", "HEAD") and len(given) == 1 and _same(given[0], self.settings.token):
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                location = scope["path"] + (f"?{rest}" if rest else "")
                cookie = (f"{self.settings.cookie_name}={self.settings.token}; Path=/; HttpOnly; SameSite=Strict")
                await _answer(send, 303, "Opening the form", "The form is opening.",
                              [("location", location), ("set-cookie", cookie)])
                return
            await _answer(send, 403, "Not allowed", NO_TOKEN)
            return
        if not _same(_cookie(headers.get("cookie", ""), self.settings.cookie_name), self.settings.token):
            await _answer(send, 403, "Not allowed", NO_TOKEN)
            return
        if method not in ("GET", "HEAD", "POST"):
            await _answer(send, 405, "Not allowed", "This form only shows pages and takes its own forms.",
                          [("allow", "GET, HEAD, POST")])
            return
        if method == "POST":
            origin = headers.get("origin")
            if origin != f"http://{headers.get('host', '').lower()}":
                await _answer(send, 403, "Not allowed", "This form takes only what is sent from its own pages.")
                return
            limit = MAX_UPLOAD_BYTES if scope["path"] in UPLOAD_PATHS else MAX_FORM_BYTES
            body = await _read_body(receive, headers, limit)
            if body is None:
                await _answer(send, 413, "Too large", _too_large(limit))
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {bytes(k).lower() for k, _v in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in names]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", CSP.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return sending


def _too_large(limit: int) -> str:
    if limit >= 1024 * 1024:
        return (f"The file is larger than {limit // (1024 * 1024)} MB. A day's list is much smaller: export one day, "
                "or use ketaprep batch for larger lists.")
    return f"The form sent more than {limit // 1024} KB; this form's fields are much shorter."


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _cookie(header: str, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is no token
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes | None:
    """The whole body, or None as soon as it is larger than `limit` (declared or sent)."""
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body already read, then the connection's own messages (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _answer(send: Send, status: int, title: str, text: str, headers: list[tuple[str, str]] | None = None) -> None:
    body = _page(title, text)
    raw = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers or []]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
