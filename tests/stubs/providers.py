"""A local HTTP server that speaks just enough SendGrid and Twilio for the real SDKs.

The senders under test use the official SDKs unchanged, pointed at this server: what the
stub records is what would have gone over the wire, so tests assert on the actual request
(recipient, content, credentials) instead of on mocks that restate the code.

- SendGrid ``POST /v3/mail/send``: Bearer API key checked, answers 202 + ``X-Message-Id``.
- Twilio ``POST /2010-04-01/Accounts/<sid>/Messages.json``: basic auth checked, form body
  parsed, answers 201 with a message resource (``sid`` "SM" + 32 hex, ``status`` queued).
- ``respond_next`` programs error answers or delays (to provoke read timeouts).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

SENDGRID_API_KEY = "SG.test-key"
TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TWILIO_AUTH_TOKEN = "test-auth-token"

_TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_SENDGRID_PATH = "/v3/mail/send"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stub received it, and the status it was (or will be) answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    provider: str  # "sendgrid", "twilio" or "unknown"
    status: int
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    provider_id: str = ""

    @property
    def accepted(self) -> bool:
        """True if the stub answered (or would have answered, before a timeout) 2xx."""
        return 200 <= self.status < 300


@dataclass(frozen=True)
class StubEmail:
    """An email SendGrid accepted, flattened from the v3 JSON body."""

    to: list[str]
    from_email: str
    from_name: str | None
    reply_to: str | None
    subject: str
    text: str | None
    html: str | None
    custom_args: dict[str, str]
    mail_headers: dict[str, str]
    api_key: str
    provider_id: str
    request: RecordedRequest

    @property
    def message_key(self) -> str | None:
        """Our idempotency key, as the X-GRC-Message-Key header of the email."""
        return self.mail_headers.get("X-GRC-Message-Key")


@dataclass(frozen=True)
class StubSms:
    """An SMS Twilio accepted, from the form body and the basic-auth credentials."""

    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    username: str
    password: str
    sid: str
    request: RecordedRequest


@dataclass
class _Programmed:
    status: int | None  # None: the normal answer
    body: bytes
    headers: dict[str, str]
    delay: float
    provider: str | None
    drop: bool = False


class ProviderStub:
    """The running stub: base ``url``, recorded requests, programmable answers.

    Thread-safe: the server answers each request in its own thread.
    """

    def __init__(
        self,
        *,
        sendgrid_api_key: str = SENDGRID_API_KEY,
        twilio_account_sid: str = TWILIO_ACCOUNT_SID,
        twilio_auth_token: str = TWILIO_AUTH_TOKEN,
    ) -> None:
        self.sendgrid_api_key = sendgrid_api_key
        self.twilio_account_sid = twilio_account_sid
        self.twilio_auth_token = twilio_auth_token
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._program: deque[_Programmed] = deque()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            # A short poll interval keeps shutdown (once per test) at a few milliseconds.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="provider-stub",
            daemon=True,
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> ProviderStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a programmed delay
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ProviderStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``: SendGrid host and Twilio base URL."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def reset(self) -> None:
        """Forget recorded requests and programmed answers."""
        with self._lock:
            self._requests.clear()
            self._program.clear()

    # --- programming -----------------------------------------------------------------------

    def respond_next(
        self,
        status: int | None = None,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        *,
        times: int = 1,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        provider: str | None = None,
        drop: bool = False,
    ) -> None:
        """Answer the next ``times`` requests (for ``provider`` only, if given) this way.

        ``status=None`` keeps the normal answer, e.g. ``respond_next(delay=2)`` to make the
        client time out while the stub still accepts the message. ``drop=True`` accepts the
        message and closes the connection without answering (an answer lost on the way).
        A dict/list ``body`` is sent as JSON. Credentials are checked first: a bad key still
        gets 401.
        """
        if isinstance(body, dict | list):
            raw = json.dumps(body).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body or b""
        entry = _Programmed(status, raw, dict(headers or {}), delay, provider, drop)
        with self._lock:
            self._program.extend(entry for _ in range(times))

    def fail_next(
        self, status: int, *, times: int = 1, provider: str | None = None, code: int | None = None
    ) -> None:
        """Answer ``status`` with a body shaped like the provider's own error answers."""
        if provider == "twilio" or code is not None:
            body: dict[str, Any] = {
                "code": code or status,
                "message": f"Stub error {code or status}",
                "more_info": f"https://www.twilio.com/docs/errors/{code or status}",
                "status": status,
            }
        else:
            body = {"errors": [{"message": f"Stub error {status}", "field": None}]}
        self.respond_next(status, body, times=times, provider=provider)

    # --- what was received -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def emails(self) -> list[StubEmail]:
        """Emails SendGrid accepted, in arrival order (duplicates included)."""
        return [_to_email(r) for r in self.requests if r.provider == "sendgrid" and r.accepted]

    @property
    def sms(self) -> list[StubSms]:
        """SMS Twilio accepted, in arrival order (duplicates included)."""
        return [_to_sms(r) for r in self.requests if r.provider == "twilio" and r.accepted]

    def distinct_emails(self) -> list[StubEmail]:
        """Accepted emails, the first of each X-GRC-Message-Key only.

        What a recipient sees after duplicate suppression; emails without a key are all kept.
        """
        seen: set[str] = set()
        distinct = []
        for email in self.emails:
            key = email.message_key
            if key is not None and key in seen:
                continue
            if key is not None:
                seen.add(key)
            distinct.append(email)
        return distinct

    def distinct_email_keys(self) -> list[str]:
        """The distinct X-GRC-Message-Key values of accepted emails, first-seen order."""
        return [e.message_key for e in self.distinct_emails() if e.message_key is not None]

    # --- used by the handler ---------------------------------------------------------------

    def _take_program(self, provider: str) -> _Programmed | None:
        with self._lock:
            for index, entry in enumerate(self._program):
                if entry.provider in (None, provider):
                    del self._program[index]
                    return entry
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A worker's delivery threads connect at once: a short backlog on a busy machine drops
    # connections, which the SDKs report as unknown outcomes.
    request_queue_size = 128
    stub: ProviderStub

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and left makes the late answer fail; that is expected.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing left pooled

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._send(405, b"", {})

    def do_POST(self) -> None:
        stub = self.server.stub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        if self.path == _SENDGRID_PATH:
            status, answer, extra, record = self._sendgrid(stub, headers, body)
        elif match := _TWILIO_PATH.match(self.path):
            status, answer, extra, record = self._twilio(stub, match.group(1), headers, body)
        else:
            status, answer, extra = 404, b'{"message": "not found"}', {}
            record = {"provider": "unknown"}
        delay, drop = 0.0, False
        if 200 <= status < 300 and (program := stub._take_program(record["provider"])):
            delay, drop = program.delay, program.drop
            if program.status is not None:
                status, answer, extra = program.status, program.body, program.headers
                if not 200 <= status < 300:
                    record.pop("provider_id", None)
        stub._record(
            RecordedRequest(
                method="POST", path=self.path, headers=headers, body=body, status=status, **record
            )
        )
        if delay:
            stub._sleep(delay)
        if drop:
            self.close_connection = True
            return
        self._send(status, answer, extra)

    def _sendgrid(
        self, stub: ProviderStub, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str], dict[str, Any]]:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        record: dict[str, Any] = {"provider": "sendgrid", "json": payload}
        if headers.get("Authorization") != f"Bearer {stub.sendgrid_api_key}":
            error: dict[str, Any] = {"errors": [{"message": "The provided grant is invalid"}]}
            return 401, json.dumps(error).encode(), {}, record
        if not isinstance(payload, dict) or "personalizations" not in payload:
            error = {"errors": [{"message": "Bad Request", "field": None}]}
            return 400, json.dumps(error).encode(), {}, record
        message_id = secrets.token_urlsafe(16)[:22]
        record["provider_id"] = message_id
        return 202, b"", {"X-Message-Id": message_id}, record

    def _twilio(
        self, stub: ProviderStub, sid: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str], dict[str, Any]]:
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        record: dict[str, Any] = {"provider": "twilio", "form": form}
        user, password = _basic_auth(headers.get("Authorization", ""))
        if (user, password) != (stub.twilio_account_sid, stub.twilio_auth_token) or (
            sid != stub.twilio_account_sid
        ):
            error = {"code": 20003, "message": "Authenticate", "status": 401}
            return 401, json.dumps(error).encode(), {}, record
        if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
            error = {"code": 21604, "message": "A 'To' and a 'From' are required", "status": 400}
            return 400, json.dumps(error).encode(), {}, record
        message_sid = "SM" + secrets.token_hex(16)
        record["provider_id"] = message_sid
        now = formatdate(usegmt=True)
        resource: dict[str, Any] = {
            "sid": message_sid,
            "account_sid": sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "EUR",
            "status": "queued",
            "subresource_uris": {},
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
        }
        return 201, json.dumps(resource).encode(), {}, record

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


def _basic_auth(header: str) -> tuple[str, str]:
    if not header.startswith("Basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return "", ""
    return user, password


def _to_email(request: RecordedRequest) -> StubEmail:
    payload = request.json or {}
    personalization = (payload.get("personalizations") or [{}])[0]
    contents = {c.get("type"): c.get("value") for c in payload.get("content", [])}
    sender = payload.get("from") or {}
    reply_to = payload.get("reply_to") or {}
    return StubEmail(
        to=[t["email"] for t in personalization.get("to", [])],
        from_email=sender.get("email", ""),
        from_name=sender.get("name"),
        reply_to=reply_to.get("email"),
        subject=payload.get("subject") or personalization.get("subject", ""),
        text=contents.get("text/plain"),
        html=contents.get("text/html"),
        custom_args={**payload.get("custom_args", {}), **personalization.get("custom_args", {})},
        mail_headers={**payload.get("headers", {}), **personalization.get("headers", {})},
        api_key=request.headers.get("Authorization", "").removeprefix("Bearer "),
        provider_id=request.provider_id,
        request=request,
    )


def _to_sms(request: RecordedRequest) -> StubSms:
    form = request.form
    user, password = _basic_auth(request.headers.get("Authorization", ""))
    match = _TWILIO_PATH.match(request.path)
    return StubSms(
        account_sid=match.group(1) if match else "",
        to=form.get("To", ""),
        from_=form.get("From"),
        messaging_service_sid=form.get("MessagingServiceSid"),
        body=form.get("Body", ""),
        status_callback=form.get("StatusCallback"),
        username=user,
        password=password,
        sid=request.provider_id,
        request=request,
    )


def closed_port_url() -> str:
    """A loopback URL nobody listens on, to provoke "connection refused"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def provider_stub() -> Iterator[ProviderStub]:
    """A fresh stub per test, stopped afterwards (starting one takes about a millisecond)."""
    with ProviderStub() as stub:
        yield stub
