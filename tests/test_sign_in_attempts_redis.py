"""Failed sign-ins counted in Redis (RATELIMIT_STORAGE_URI=redis://…): two app processes share one account's count."""
import os
import uuid

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import base_config

REDIS_URL = os.environ.get("TEST_REDIS_URL")
if not REDIS_URL:
    pytest.skip("needs TEST_REDIS_URL (set by .ci/run) for the shared rate-limit store", allow_module_level=True)


@pytest.fixture
def two_apps(tmp_path):
    """Two app instances (as two processes would be) on one database and one Redis, under a prefix of their own."""
    prefix = f"ticketwerk-test-{uuid.uuid4().hex[:8]}"
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite'}")
    config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    apps = [create_app(config), create_app(config)]
    with apps[0].app_context():
        db.create_all()
    yield apps
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _sign_in(app, password):
    """One sign-in attempt for anna (no such account: counted all the same) through `app`; returns the status."""
    return app.test_client().post("/login", data={"email": "anna@example.com", "password": password}).status_code


def test_two_app_processes_share_the_accounts_count(two_apps):
    first, second = two_apps
    assert [_sign_in(first, f"wrong-{n}") for n in range(3)] == [401] * 3
    assert [_sign_in(second, f"wrong-{n}") for n in range(2)] == [401] * 2  # the fourth and fifth failure
    assert _sign_in(first, "another-guess") == 429
    assert _sign_in(second, "another-guess") == 429
