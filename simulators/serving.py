"""The real HTTP server every marketplace simulator runs in (development, demos, live-server tests).

Standard library only, like the rest of the provider packages: a threaded WSGI server that does
not log each request (the simulators and the console log what matters).
"""

from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def threaded_wsgi_server(app: Callable[..., Any], *, host: str, port: int) -> WSGIServer:
    """A threaded stdlib HTTP server around a WSGI app; `port=0` picks a free port."""
    return make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)


def serve_until_interrupted(server: WSGIServer) -> None:
    """Serve until Ctrl-C, then close the socket."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
