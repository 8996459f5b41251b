"""A webhook receiver for the tests: a WSGI app reached through httpx.WSGITransport, as a partner's
system would be over the network. It records what it got, checks nothing itself, and can be told to
fail its next requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    fail_next: int = 0
    failure_status: int = 503
    received: list[Received] = field(default_factory=list)

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        self.received.append(Received(headers=headers, body=body))
        if self.fail_next > 0:
            self.fail_next -= 1
            start_response(f"{self.failure_status} Unavailable", [("Content-Type", "text/plain")])
            return [b"receiver down for maintenance"]
        start_response("204 No Content", [])
        return [b""]
