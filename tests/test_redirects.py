"""Every `next`- and referrer-based redirect stays on this site, whatever the target holds."""
from urllib.parse import urljoin, urlsplit

import pytest

from app.redirects import safe_next
from tests.factories import PASSWORD, make_employee
from tests.messenger_helpers import Scene

FOREIGN_TARGETS = [
    "//evil.example",
    "//evil.example/x",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "/\\\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    " //evil.example",
    "/ /evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "https://evil.example/",
    "http:/evil.example",
    "http:evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "/\u200b/evil.example",
    "/\u2028/evil.example",
    "/\u3000/evil.example",
    "\uff0f\uff0fevil.example",
    "\u2215\u2215evil.example",
    "",
]
LOCAL_TARGETS = ["/tickets/7", "/tickets?page=2&q=%2F", "/admin/codes/3#pin", "/c/demo-pin?tab=tickets"]
UNICODE_SLASH_TARGETS = ["/\uff0f/evil.example", "/\u2215/evil.example", "/\u2044/evil.example", "/\u29f8evil.example"]


def lands_on_this_site(location, here="http://localhost/login"):
    """Where a browser goes for a `Location` header: tabs and line breaks dropped, backslashes read as slashes
    (WHATWG URL parsing), resolved against the page; True when that is this site."""
    cleaned = location.strip(" \x00\x1f").replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    parts = urlsplit(urljoin(here, cleaned))
    return parts.scheme in ("http", "https") and parts.netloc == "localhost"


@pytest.mark.parametrize("target", FOREIGN_TARGETS + UNICODE_SLASH_TARGETS + [None, 7])
def test_safe_next_never_leaves_the_site(target):
    """Foreign, scheme-relative, disguised or malformed targets give the fallback."""
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", LOCAL_TARGETS)
def test_safe_next_keeps_local_paths(target):
    """Same-site paths with their query and fragment pass unchanged."""
    assert safe_next(target, "/fallback") == target


def _assert_redirect_home(response, fallback_suffix):
    """A redirect (never a server error) that stays on this site and went to the fallback."""
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    assert lands_on_this_site(location), location
    assert "evil" not in location
    assert location.endswith(fallback_suffix)


@pytest.mark.parametrize("target", FOREIGN_TARGETS + UNICODE_SLASH_TARGETS)
def test_login_next_stays_home(app, client, target):
    """POST /login?next=…: the employee lands on the home page for every foreign target."""
    make_employee(email="anna@example.com")
    response = client.post(
        "/login", query_string={"next": target}, data={"email": "anna@example.com", "password": PASSWORD}
    )
    _assert_redirect_home(response, "/")


def test_login_next_keeps_a_local_page(app, client):
    """A local target survives the login."""
    make_employee(email="anna@example.com")
    response = client.post(
        "/login", query_string={"next": "/tickets?page=2"}, data={"email": "anna@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/tickets?page=2"


@pytest.mark.parametrize("target", FOREIGN_TARGETS + UNICODE_SLASH_TARGETS)
def test_language_switch_next_stays_home(app, client, target):
    """The footer's language switch goes back only to pages of this site."""
    response = client.post("/language", data={"language": "en", "next": target})
    _assert_redirect_home(response, "/")


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("http://localhost/tickets?page=2", "/tickets?page=2"),
        ("http://evil.example/tickets", "/"),
        ("http://localhost.evil.example/x", "/"),
        ("http://evil.example/?localhost//evil.example", "/"),
        ("https://localhost/tickets", "/"),
        ("http://localhost//evil.example", "/"),
        ("http://localhost/%09/evil.example", "/"),
        ("not a url", "/"),
    ],
)
def test_language_switch_goes_back_to_the_referring_page_of_this_site_only(app, client, referrer, expected):
    """Without `next` the referrer decides, and only when it is a page of this site."""
    response = client.post("/language", data={"language": "en"}, headers={"Referer": referrer})
    assert response.status_code == 302 and response.headers["Location"] == expected


@pytest.fixture
def scene(app):
    """A PUBLIC ticket with people around it."""
    return Scene(app)


@pytest.mark.parametrize("target", FOREIGN_TARGETS + UNICODE_SLASH_TARGETS)
def test_messenger_next_stays_on_the_thread(scene, client, login, target):
    """A plain (no-JavaScript) post goes back only to a page of this site, else to the thread."""
    login(scene.moderator)
    response = client.post(f"/tickets/{scene.ticket.id}/messages", data={"body": "Hallo", "next": target})
    _assert_redirect_home(response, f"/tickets/{scene.ticket.id}/messages")


@pytest.mark.parametrize("target", FOREIGN_TARGETS + UNICODE_SLASH_TARGETS + ["/c/demo-pin/\t/evil.example"])
def test_pin_next_stays_on_the_code(demo, client, target):
    """After the PIN only pages of that code are targets."""
    response = client.post("/c/demo-pin/pin", data={"pin": "4711", "next": target})
    _assert_redirect_home(response, "/c/demo-pin")
