"""Serving the dashboard: Flask's WSGI app under werkzeug's threaded server, one thread a request."""

from __future__ import annotations

import errno
import logging
import socket

import click
from werkzeug.serving import make_server

from pipelines.dashboard.app import create_app
from pipelines.dashboard.errors import DashboardError
from pipelines.dashboard.monitor import Monitor


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
    except OSError as exc:
        taken = exc.errno == errno.EADDRINUSE
        why = "is in use: give another with --port" if taken else f"cannot be used ({exc.strerror or exc})"
        raise DashboardError(f"dashboard address {host}:{port} {why}") from None
    return listening


def serve(monitor: Monitor, host: str, port: int, workers: int) -> None:
    """Serve until interrupted. The first assessment is made before the port opens, so a pipeline
    that cannot be checked is an error here, not a blank page."""
    monitor.snapshot()
    # One line per request on stderr says nothing a watcher of the dashboard needs.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(monitor, workers)
    listening = _listen(host, port)
    # werkzeug binds the socket it is given as is; binding itself, it would exit on a taken port.
    server = make_server(host, port, app.server, threaded=True, fd=listening.fileno())
    click.echo(
        f"dashpipe dashboard: {monitor.title} at http://{host}:{server.port}/ (Ctrl-C stops it)", err=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
