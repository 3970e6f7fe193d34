"""Start the form: bind the socket, print the address (with its token), serve until Ctrl-C.

uvicorn writes no access log (a request line could carry a query string) and no start-up
chatter: the only lines are ours, and none of them holds a patient's value.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import signal
import socket
import sys
from types import FrameType

from ketaprep.errors import KetaprepError
from ketaprep.serve.settings import Settings


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: any free port), or a message that says what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on each connection (a response in two writes
    # would otherwise wait 40 ms for the browser's delayed acknowledgement)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise KetaprepError(f"port {port} is already in use (is ketaprep serve already running?); "
                                "choose another with --port") from None
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
            raise KetaprepError(f"--host {host}: not an address of this computer") from None
        raise KetaprepError(f"cannot listen on {host} port {port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings, open_browser: bool = False) -> None:
    """Run until Ctrl-C (or SIGTERM), then exit 0; the first `http://` line on stdout is the address to open."""
    import uvicorn

    from ketaprep.serve.app import build

    sock = bind(settings.host, settings.port)
    settings = dataclasses.replace(settings, port=sock.getsockname()[1])
    application = build(settings)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = False
        logger.setLevel(logging.CRITICAL + 1)
    config = uvicorn.Config(
        application,
        access_log=False,
        log_config=None,
        log_level="critical",
        lifespan="off",
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=3,
        h11_max_incomplete_event_size=16 * 1024,
    )
    server = uvicorn.Server(config)
    sys.stdout.write(f"{settings.url}\n")
    sys.stdout.write("Open the address above in the browser on this computer. Press Ctrl-C to stop.\n")
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(settings.url)
    # uvicorn shuts down gracefully on Ctrl-C or SIGTERM, then raises the signal again for the
    # handler that was there before: here, one that ends the run as the normal way to stop.
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    sys.stdout.write("stopped.\n")
    sys.stdout.flush()
