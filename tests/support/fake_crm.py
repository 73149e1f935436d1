"""A business's CRM endpoint, over real HTTP: it answers well, slowly, wrongly or with an
error, as the test asks, and checks every request's Standard Webhooks signature."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

GOOD_ANSWER = {"name": "Jane Doe", "note": "Gold customer, renewal due in May"}


class FakeCrm:
    """`answer` is what the next requests get: a dict (JSON), bytes (as they are), an int (that
    HTTP status, empty body); `delay` seconds before answering."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.answer: dict | bytes | int = GOOD_ANSWER
        self.delay = 0.0
        # Seconds between the bytes of the body: an answer that starts at once, then crawls.
        self.drip = 0.0
        self.requests: list[dict] = []
        self.bad_signatures = 0
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    Webhook(crm.secret).verify(body, dict(self.headers))
                    crm.requests.append({"headers": dict(self.headers), "json": json.loads(body)})
                except WebhookVerificationError:
                    crm.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                time.sleep(crm.delay)
                answer = crm.answer
                if isinstance(answer, int):
                    self.send_response(answer)
                    self.end_headers()
                    return
                payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    if not crm.drip:
                        self.wfile.write(payload)
                    for byte in payload if crm.drip else b"":
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(crm.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/callers/lookup"

    def __enter__(self) -> FakeCrm:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
