"""Per-client budgets on ticket creation, messages, uploads, downloads and receiver sign-ups: each keyed on the
client's address, shared by the endpoints of one kind, answered 429 when spent."""
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.models import Attachment
from app.request_limits import BUDGETS

pytestmark = pytest.mark.usefixtures("english")

TIGHT = {
    "TICKET_CREATE_RATE_LIMIT": "2 per minute",
    "MESSAGE_RATE_LIMIT": "3 per minute",
    "UPLOAD_RATE_LIMIT": "3 per minute",
    "DOWNLOAD_RATE_LIMIT": "3 per minute",
    "RECEIVER_SIGNUP_RATE_LIMIT": "2 per minute",
}
HERE, ELSEWHERE = {"REMOTE_ADDR": "203.0.113.1"}, {"REMOTE_ADDR": "203.0.113.2"}


def _png():
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def _post_message(client, scene, body="Hallo", files=0, address=HERE):
    """Post a message (with `files` photos) from `address`; returns the status."""
    data = {"body": body, "files": [(io.BytesIO(_png()), f"foto{n}.png") for n in range(files)]}
    response = client.post(
        f"/tickets/{scene.ticket.id}/messages",
        data=data,
        headers={"HX-Request": "true"},
        content_type="multipart/form-data",
        environ_base=address,
    )
    return response.status_code


def test_every_budgeted_endpoint_exists(app):
    """The table names live endpoints only (register() would fail at start otherwise)."""
    assert set(BUDGETS) <= set(app.view_functions)


@pytest.mark.parametrize("app", [TIGHT], indirect=True)
def test_messages_per_address(scene, client, login):
    """Three messages a minute from one address; the fourth is refused with 429, another address still posts."""
    login(scene.member)
    assert [_post_message(client, scene, f"m{n}") for n in range(4)] == [200, 200, 200, 429]
    assert _post_message(client, scene, "anderswo", address=ELSEWHERE) == 200


@pytest.mark.parametrize("app", [{**TIGHT, "MESSAGE_RATE_LIMIT": "100 per minute"}], indirect=True)
def test_uploads_count_files_not_requests(scene, client, login):
    """Text messages spend nothing of the upload budget; each file counts one: 2 files pass, 2 more (4 of 3) do not."""
    login(scene.member)
    assert [_post_message(client, scene, f"text {n}") for n in range(5)] == [200] * 5
    assert _post_message(client, scene, "", files=2) == 200
    assert _post_message(client, scene, "", files=2) == 429
    assert _post_message(client, scene, "", files=2, address=ELSEWHERE) == 200


@pytest.mark.parametrize("app", [{**TIGHT, "UPLOAD_RATE_LIMIT": "100 per minute", "MESSAGE_RATE_LIMIT": "100 per minute",
                                  "UPLOAD_BYTES_RATE_LIMIT": "1500 per hour"}], indirect=True)
def test_upload_bytes_per_address_and_hour(scene, client, login):
    """A byte budget per address: small photos pass until their sizes add up past it; another address still posts."""
    login(scene.member)
    statuses = [_post_message(client, scene, "", files=1) for _ in range(12)]
    assert statuses[0] == 200 and statuses[-1] == 429 and statuses == sorted(statuses)  # passes, then refused
    assert _post_message(client, scene, "", files=1, address=ELSEWHERE) == 200
    assert _post_message(client, scene, "nur Text") == 200  # text spends nothing of the byte budget


@pytest.mark.parametrize("app", [TIGHT], indirect=True)
def test_downloads_per_address(scene, client, login):
    """File and thumbnail fetches share one budget."""
    login(scene.member)
    assert _post_message(client, scene, "", files=1, address=ELSEWHERE) == 200
    attachment = db.session.scalar(sa.select(Attachment))
    urls = [f"/files/{attachment.id}", f"/files/{attachment.id}/thumb"] * 2
    statuses = []
    for url in urls:
        with client.get(url, environ_base=HERE) as response:
            statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429]
    with client.get(urls[0], environ_base=ELSEWHERE) as response:
        assert response.status_code == 200


@pytest.mark.parametrize("app", [TIGHT], indirect=True)
def test_ticket_creation_per_address(scene, client):
    """A code user starts two drafts a minute from one address; the third is refused."""
    scene.code_client(client)
    url = f"/c/{scene.code.token}/flows/{scene.flow.id}"
    assert [client.post(url, environ_base=HERE).status_code for _ in range(3)] == [302, 302, 429]
    assert client.post(url, environ_base=ELSEWHERE).status_code == 302


@pytest.mark.parametrize("app", [TIGHT], indirect=True)
def test_receiver_signups_per_address(scene, client):
    """A code user's e-mail sign-ups (each may send mail) are limited per address."""
    scene.code_client(client)
    url = f"/receivers/{scene.ticket.id}/email"
    statuses = [
        client.post(url, data={"email": f"k{n}@example.com"}, environ_base=HERE, headers={"HX-Request": "true"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_redis_message_queue_shares_the_rate_limit_store():
    """Processes that share a Redis queue count their budgets there too, unless a store is named."""
    from app import _share_rate_limits_with_the_message_queue as share

    config = {"RATELIMIT_STORAGE_URI": "memory://", "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"}
    share(config)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    config = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1", "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"}
    share(config)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/1"
    config = {"RATELIMIT_STORAGE_URI": "memory://", "SOCKETIO_MESSAGE_QUEUE": None}
    share(config)
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
