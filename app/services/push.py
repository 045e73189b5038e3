"""Web push: VAPID keys in instance/ (generated on first start), sending with pywebpush, subscriptions."""
import base64
import json
import os
import threading

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import PushSubscription
from app.services import outbound

_key_lock = threading.Lock()


class PushGone(Exception):
    """The push service says the subscription no longer exists (404/410)."""


class PushError(outbound.SendError):
    """Sending failed; `permanent` says whether a retry cannot help."""


def private_key_path():
    """Where the VAPID private key lives (instance/vapid_private.pem unless configured)."""
    return current_app.config.get("VAPID_PRIVATE_KEY_FILE") or os.path.join(current_app.instance_path, "vapid_private.pem")


def ensure_vapid_keys():
    """Generate the VAPID key pair on first start; return the private key path.

    py_vapid (and with it cryptography, about 10 MiB of resident memory) is imported only when a key must be
    made: the dispatcher calls this at start in every web process, most of which never send a push."""
    path = private_key_path()
    if os.path.exists(path):
        return path
    from py_vapid import Vapid

    with _key_lock:
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            vapid = Vapid()
            vapid.generate_keys()
            temporary = f"{path}.{os.getpid()}.tmp"
            vapid.save_key(temporary)
            os.chmod(temporary, 0o600)
            try:
                os.link(temporary, path)  # Atomic: a concurrent first start keeps whichever key landed first.
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
            public_path = os.path.join(os.path.dirname(path), "vapid_public.pem")
            if not os.path.exists(public_path):
                Vapid.from_file(path).save_public_key(public_path)
    return path


def application_server_key():
    """The public key as the browser's PushManager.subscribe wants it (base64url, uncompressed point)."""
    # Imported on use: about 7 MB per process that never sends a push.
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    vapid = Vapid.from_file(ensure_vapid_keys())
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check_endpoint(endpoint):
    """None when the server may send to `endpoint`; ValidationError (field "endpoint") otherwise.

    An https URL of a public host (outbound.check_public_url); OUTBOUND_ALLOW_PRIVATE_ADDRESSES (or its older
    name PUSH_ALLOW_PRIVATE_ENDPOINTS) also allows http and private or loopback hosts. Resolves the host through
    DNS."""
    outbound.check_public_url(endpoint, allow_private=outbound.private_addresses_allowed(), field="endpoint")


def _session():
    """A requests session that never follows a redirect: the push service's answer is final."""
    import requests

    class NoRedirects(requests.Session):
        def request(self, method, url, **kwargs):
            """Every request without redirects."""
            kwargs["allow_redirects"] = False
            return super().request(method, url, **kwargs)

    return NoRedirects()


def send(subscription, payload, *, ttl=24 * 3600):
    """Encrypt and send one payload to one subscription; PushGone on 404/410, PushError otherwise.

    The endpoint is checked again first (`check_endpoint`: the host may resolve elsewhere now, or the row is
    older than the check): a refused endpoint is a permanent PushError, one that does not resolve a passing one.
    Redirects are not followed; a 3xx answer is a permanent PushError."""
    from pywebpush import WebPushException, webpush

    outbound.check_before_sending(check_endpoint, subscription.endpoint, PushError, "push endpoint")
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        with _session() as session:
            webpush(
                info,
                data=json.dumps(payload),
                vapid_private_key=ensure_vapid_keys(),
                vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
                ttl=ttl,
                timeout=10,
                requests_session=session,
            )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            raise PushGone(f"push service answered {status}") from None
        if status is not None and 300 <= status < 400:
            raise PushError(f"push service answered {status}: redirects are not followed", permanent=True) from None
        permanent = status is not None and 400 <= status < 500 and status not in (408, 429)
        raise PushError(f"push service answered {status or 'nothing'}: {error.message[:200]}", permanent) from None
    except Exception as error:  # noqa: BLE001 - network errors of every kind are worth a retry
        raise PushError(f"push failed: {type(error).__name__}: {str(error)[:200]}") from None


def subscriptions_for(employee_id=None, receiver_id=None):
    """The subscribed browsers of an employee or of a code-user receiver."""
    query = sa.select(PushSubscription).order_by(PushSubscription.id)
    query = query.filter_by(employee_id=employee_id) if employee_id else query.filter_by(receiver_id=receiver_id)
    return list(db.session.scalars(query))


def subscribe(endpoint, p256dh, auth, *, employee_id=None, receiver_id=None):
    """Store (or move) a browser's subscription; the caller commits. None when it is incomplete; ValidationError
    (field "endpoint") when the server may not send to the endpoint (`check_endpoint`)."""
    endpoint, p256dh, auth = (str(value or "").strip() for value in (endpoint, p256dh, auth))
    if not endpoint.startswith(("https://", "http://")) or not p256dh or not auth or len(endpoint) > 1000:
        return None
    if len(p256dh) > 255 or len(auth) > 255:
        return None
    check_endpoint(endpoint)
    row = db.session.scalar(sa.select(PushSubscription).filter_by(endpoint=endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint)
        db.session.add(row)
    row.p256dh, row.auth, row.employee_id, row.receiver_id = p256dh, auth, employee_id, receiver_id
    return row


def unsubscribe(endpoint, *, employee_id=None, receiver_id=None):
    """Forget a browser's subscription if it belongs to the caller; the caller commits."""
    row = db.session.scalar(sa.select(PushSubscription).filter_by(endpoint=str(endpoint or "").strip()))
    if row is not None and (
        (employee_id and row.employee_id == employee_id) or (receiver_id and row.receiver_id == receiver_id)
    ):
        db.session.delete(row)
        return True
    return False
