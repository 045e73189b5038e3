"""Real notification endpoints on loopback for tests: an SMTP server (aiosmtpd) and a web-push service."""
import base64
import json
import os
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from app.extensions import db
from app.models import PushSubscription


def free_port():
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def b64url(data):
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        """Store the parsed message."""
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address):
        """Messages addressed to `address`."""
        return [message for rcpt, message in self.messages if address in rcpt]


class SmtpServer:
    """A real SMTP server that can be stopped ("down") and started again on the same port."""

    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        """Accept mail."""
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        """Refuse connections."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    """An SMTP server on loopback the app is configured to use."""
    server = SmtpServer().start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DEFAULT_SENDER="ticketwerk@example.com")
    yield server
    server.stop()


class LoopbackReceiver:
    """An HTTP server on loopback that keeps every POST it receives as {"path", "headers" (lower-case names),
    "body" (bytes)} plus what `record` adds, and answers with the status set per path in `status` (else
    `default_status`) and a Location header from `locations` (for redirects)."""

    default_status = 200

    def __init__(self):
        self.requests = []
        self.status = {}
        self.locations = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": headers, "body": body,
                                              **receiver.record(self.path, headers, body)})
                    code = receiver.status.get(self.path, receiver.default_status)
                self.send_response(code)
                if self.path in receiver.locations:
                    self.send_header("Location", receiver.locations[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, path, headers, body):
        """What else to keep of a request (a dict); nothing by default."""
        return {}

    def stop(self):
        """Shut down."""
        self.server.shutdown()
        self.server.server_close()


class PushService(LoopbackReceiver):
    """A web-push service on loopback: keeps requests, answers per endpoint path with a chosen status (201 unless
    told; a Location header from `locations`, for redirects)."""

    default_status = 201

    def to(self, path):
        """Requests that reached one endpoint path."""
        return [request for request in self.requests if request["path"] == path]


@pytest.fixture
def push_service(app, tmp_path):
    """A push service on loopback (allowed by PUSH_ALLOW_PRIVATE_ENDPOINTS); VAPID keys go to the test's temp folder."""
    app.config["VAPID_PRIVATE_KEY_FILE"] = str(tmp_path / "vapid_private.pem")
    app.config["VAPID_SUBJECT"] = "mailto:ops@example.com"
    app.config["PUSH_ALLOW_PRIVATE_ENDPOINTS"] = True
    service = PushService()
    yield service
    service.stop()


class Browser:
    """A browser's push keys (what PushManager.subscribe creates) and how to read what it receives."""

    def __init__(self, service, name):
        self.path = f"/push/{name}"
        self.endpoint = service.url + self.path
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh = b64url(public)
        self.auth_secret = os.urandom(16)
        self.auth = b64url(self.auth_secret)

    def subscribe(self, employee_id=None, receiver_id=None):
        """Store this browser's subscription as the server would."""
        row = PushSubscription(
            endpoint=self.endpoint, p256dh=self.p256dh, auth=self.auth, employee_id=employee_id, receiver_id=receiver_id
        )
        db.session.add(row)
        db.session.commit()
        return row

    def decrypt(self, request):
        """Decrypt one push request's body into the JSON payload."""
        plain = http_ece.decrypt(
            request["body"], private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


def verify_vapid(request, expected_public_key, audience):
    """Check the VAPID Authorization header: a valid ES256 JWT for `audience`, signed by our key."""
    header = request["headers"].get("authorization")
    assert header and header.startswith("vapid "), header
    parts = dict(part.strip().split("=", 1) for part in header[len("vapid ") :].split(","))
    assert parts["k"] == expected_public_key
    token = parts["t"]
    signing_input, signature = token.rsplit(".", 1)
    head, claims = (json.loads(unb64url(part)) for part in signing_input.split("."))
    assert head["alg"] == "ES256"
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature when forged
    assert claims["aud"] == audience
    assert claims["exp"] > time.time()
    assert claims["sub"].startswith("mailto:")
    return claims
