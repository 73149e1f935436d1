"""A customer's webhook receiver, played over real HTTP on 127.0.0.1: it checks every request
with the `standardwebhooks` package, as a receiver would, and answers as a test tells it."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# The port range these tests may listen on.
PORTS = range(8500, 8600)


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    verified_with: list[str]

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 204
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # Hold the request this long (seconds) before answering.
    hold: float = 0.0


class Receiver:
    """Answers each request with the next of `replies` (then 204), after checking its
    signature against each of `secrets`: `verified_with` lists those it passed."""

    def __init__(self, *secrets: str) -> None:
        self.secrets = list(secrets)
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/calls"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified = []
                for secret in receiver.secrets:
                    try:
                        Webhook(secret).verify(body, headers)
                        verified.append(secret)
                    except WebhookVerificationError:
                        pass
                receiver.received.append(Received(headers, body, verified))
                reply = receiver.replies.pop(0) if receiver.replies else Reply()
                receiver.arrived.set()
                if reply.hold:
                    receiver.release.wait(reply.hold)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body.encode())))
                    self.end_headers()
                    self.wfile.write(reply.body.encode())
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8500-8599")
