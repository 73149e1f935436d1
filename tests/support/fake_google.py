"""Google, played over real HTTP on 127.0.0.1: the OAuth token endpoint a service account asks
for tokens, the Data Manager API's `events:ingest`, and GA4's Measurement Protocol.

Each endpoint checks every request as Google would and keeps what it found wrong in
`problems` (a test of a good request asserts there are none): the token request's JWT is
verified with the service account's public key; `events:ingest` wants a live bearer token and
the documented shape (destination, transactionId, RFC 3339 time, one click id, PHONE, both
consent fields); GA4 wants its measurement id and secret, a client id, and consent values.
Tests make it answer as Google does when things go wrong: `replies` (the next answers, e.g. a
500 or a 429), `refuse` (click ids it refuses, naming the event in a 400, as Google's
BadRequest details do), `refuse_unnamed` (refused with a 400 that names no event), and
`expire_tokens()` (a 401 for every token issued so far).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from tests.support.servers import free_port

SCOPE = "https://www.googleapis.com/auth/datamanager"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
CLIENT_EMAIL = "uploader@calltracking-tests.iam.gserviceaccount.com"
MEASUREMENT_ID = "G-TESTS12345"
API_SECRET = "mp-secret-Zx81"
EVENT_KEYS = {
    "transactionId",
    "eventTimestamp",
    "adIdentifiers",
    "conversionValue",
    "currency",
    "eventSource",
    "consent",
}
ADS_CONSENT = {"CONSENT_GRANTED", "CONSENT_DENIED"}
GA4_CONSENT = {"GRANTED", "DENIED"}
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


@dataclass
class Reply:
    status: int = 200
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict


def google_error(status: int, code: str, message: str, violations=()) -> dict:
    error: dict = {"code": status, "message": message, "status": code}
    if violations:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": name, "description": why} for name, why in violations
                ],
            }
        ]
    return {"error": error}


class FakeGoogle:
    def __init__(self) -> None:
        self.port = free_port()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tokens_issued: list[str] = []
        self._live_tokens: set[str] = set()
        self.ingests: list[Request] = []
        self.collects: list[Request] = []
        self.token_requests: list[dict] = []
        self.problems: list[str] = []
        self.replies: list[Reply] = []
        self.collect_replies: list[Reply] = []
        self.refuse: set[str] = set()
        self.refuse_unnamed: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def service_account_json(self) -> str:
        """A service account's JSON key, as Google makes one, whose token_uri is this fake."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "calltracking-tests",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1001",
                "token_uri": self.token_uri,
            }
        )

    def expire_tokens(self) -> None:
        with self._lock:
            self._live_tokens.clear()

    @property
    def events(self) -> list[dict]:
        """Every event of every ingest request, in order."""
        return [event for request in self.ingests for event in request.body.get("events", [])]

    # The endpoints ------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        public = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.problems.append(f"token: grant_type {form.get('grant_type')!r}")
            return 400, {"error": "unsupported_grant_type"}
        try:
            # google-auth names Google's token endpoint as the audience, whatever token_uri says.
            claims = jwt.decode(
                form.get("assertion", ""), certs=public, audience=[GOOGLE_TOKEN_URI, self.token_uri]
            )
        except ValueError as error:
            self.problems.append(f"token: assertion refused: {error}")
            return 400, {"error": "invalid_grant", "error_description": str(error)}
        self.token_requests.append(claims)
        if claims.get("iss") != CLIENT_EMAIL or claims.get("scope") != SCOPE:
            self.problems.append(f"token: claims {claims}")
            return 400, {"error": "invalid_scope"}
        with self._lock:
            token = f"ya29.fake-{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
            self._live_tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _ingest(self, request: Request) -> Reply:
        self.ingests.append(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self._live_tokens:
            return Reply(
                401,
                google_error(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                ),
            )
        if self.replies:
            return self.replies.pop(0)
        violations = ingest_violations(request.body)
        if violations:
            self.problems += [f"ingest: {name}: {why}" for name, why in violations]
            return Reply(400, google_error(400, "INVALID_ARGUMENT", "Invalid request.", violations))
        events = request.body["events"]
        refused = [
            (f"events[{i}].ad_identifiers.{kind}", "The click ID is not valid.")
            for i, event in enumerate(events)
            for kind, value in event["adIdentifiers"].items()
            if value in self.refuse
        ]
        if refused:
            return Reply(
                400,
                google_error(
                    400, "INVALID_ARGUMENT", "Request contains an invalid argument.", refused
                ),
            )
        if any(set(e["adIdentifiers"].values()) & self.refuse_unnamed for e in events):
            return Reply(
                400, google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
            )
        return Reply(200, {"requestId": f"req-{len(self.ingests)}"})

    def _collect(self, request: Request) -> Reply:
        self.collects.append(request)
        for problem in collect_problems(request):
            self.problems.append(f"collect: {problem}")
        if self.collect_replies:
            return self.collect_replies.pop(0)
        return Reply(204)

    # The server ---------------------------------------------------------------------------

    def start(self) -> FakeGoogle:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                headers = {name.lower(): value for name, value in self.headers.items()}
                if parts.path == "/token":
                    form = {k: v[0] for k, v in parse_qs(raw).items()}
                    status, body = fake._token(form)
                    self._send(Reply(status, body))
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    fake.problems.append(f"{parts.path}: body is not JSON")
                    body = {}
                request = Request(parts.path, query, headers, body)
                if parts.path == "/v1/events:ingest":
                    if headers.get("content-type", "").split(";")[0] != "application/json":
                        fake.problems.append("ingest: Content-Type is not application/json")
                    self._send(fake._ingest(request))
                elif parts.path == "/mp/collect":
                    self._send(fake._collect(request))
                else:
                    fake.problems.append(f"unknown path {parts.path}")
                    self._send(Reply(404, google_error(404, "NOT_FOUND", "Not found")))

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode() if reply.body is not None else b""
                self.send_response(reply.status)
                if data:
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _account(value, where: str) -> list[tuple[str, str]]:
    if not isinstance(value, dict) or set(value) != {"accountType", "accountId"}:
        return [(where, "must be {accountType, accountId}")]
    problems = []
    if value["accountType"] != "GOOGLE_ADS":
        problems.append((f"{where}.account_type", "must be GOOGLE_ADS"))
    if not re.fullmatch(r"\d{10}", str(value["accountId"])):
        problems.append((f"{where}.account_id", "must be 10 digits"))
    return problems


def ingest_violations(body: dict) -> list[tuple[str, str]]:
    """What Google's fast-fail validation would refuse in an `events:ingest` body."""
    problems: list[tuple[str, str]] = []
    unknown = set(body) - {"destinations", "events", "consent", "validateOnly", "encoding"}
    problems += [(name, "unknown field") for name in sorted(unknown)]
    destinations = body.get("destinations")
    if not isinstance(destinations, list) or not destinations:
        problems.append(("destinations", "required"))
        destinations = []
    for i, destination in enumerate(destinations):
        where = f"destinations[{i}]"
        if set(destination) - {"operatingAccount", "loginAccount", "productDestinationId"}:
            problems.append((where, "unknown field"))
        problems += _account(destination.get("operatingAccount"), f"{where}.operating_account")
        if "loginAccount" in destination:
            problems += _account(destination["loginAccount"], f"{where}.login_account")
        if not re.fullmatch(r"\d+", str(destination.get("productDestinationId", ""))):
            problems.append((f"{where}.product_destination_id", "must be a conversion action id"))
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= 2000:
        return [*problems, ("events", "between 1 and 2000 events")]
    seen = set()
    for i, event in enumerate(events):
        where = f"events[{i}]"
        problems += [(f"{where}.{k}", "unknown field") for k in sorted(set(event) - EVENT_KEYS)]
        transaction = event.get("transactionId")
        if not isinstance(transaction, str) or not transaction:
            problems.append((f"{where}.transaction_id", "required"))
        elif transaction in seen:
            problems.append((f"{where}.transaction_id", "repeated in the request"))
        seen.add(transaction)
        if not _RFC3339.fullmatch(str(event.get("eventTimestamp", ""))):
            problems.append((f"{where}.event_timestamp", "must be RFC 3339"))
        ids = event.get("adIdentifiers")
        if (
            not isinstance(ids, dict)
            or len(ids) != 1
            or not set(ids) <= {"gclid", "gbraid", "wbraid"}
            or not all(isinstance(v, str) and v for v in ids.values())
        ):
            problems.append((f"{where}.ad_identifiers", "exactly one of gclid, gbraid, wbraid"))
        if event.get("eventSource") != "PHONE":
            problems.append((f"{where}.event_source", "must be PHONE for a call"))
        consent = event.get("consent")
        if not isinstance(consent, dict) or set(consent) != {"adUserData", "adPersonalization"}:
            problems.append((f"{where}.consent", "adUserData and adPersonalization required"))
        elif not set(consent.values()) <= ADS_CONSENT:
            problems.append((f"{where}.consent", f"values must be in {sorted(ADS_CONSENT)}"))
        if "conversionValue" in event:
            if not isinstance(event["conversionValue"], int | float):
                problems.append((f"{where}.conversion_value", "must be a number"))
            if not re.fullmatch(r"[A-Z]{3}", str(event.get("currency", ""))):
                problems.append((f"{where}.currency", "an ISO 4217 code goes with a value"))
    return problems


def collect_problems(request: Request) -> list[str]:
    """What GA4's validation server (/debug/mp/collect) would point out."""
    problems = []
    if request.query.get("measurement_id") != MEASUREMENT_ID:
        problems.append(f"measurement_id {request.query.get('measurement_id')!r}")
    if request.query.get("api_secret") != API_SECRET:
        problems.append("api_secret wrong")
    body = request.body
    unknown = set(body) - {"client_id", "timestamp_micros", "consent", "events", "user_id"}
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}")
    if not isinstance(body.get("client_id"), str) or not body.get("client_id"):
        problems.append("client_id required")
    micros = body.get("timestamp_micros")
    if micros is not None:
        at = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
        if not isinstance(micros, int) or datetime.now(UTC) - at > timedelta(hours=72):
            problems.append("timestamp_micros beyond the 72 hours GA4 takes")
    consent = body.get("consent")
    if not isinstance(consent, dict) or not set(consent.values()) <= GA4_CONSENT:
        problems.append(f"consent {consent!r}")
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= 25:
        problems.append("events: 1 to 25")
        return problems
    for event in events:
        name = event.get("name", "")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", name):
            problems.append(f"event name {name!r}")
        params = event.get("params", {})
        if "value" in params and not re.fullmatch(r"[A-Z]{3}", str(params.get("currency"))):
            problems.append("a value needs a currency")
    return problems
