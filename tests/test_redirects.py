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


ROUTE_TARGETS = FOREIGN_TARGETS + UNICODE_SLASH_TARGETS
# One of each kind, for the routes where every try costs a password or PIN hash (about 0.1 s of CPU each).
HASHED_ROUTE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%2F/evil.example",
    "/%0A/evil.example",
    " //evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\uff0f/evil.example",
    "\uff0f\uff0fevil.example",
]


def _wrong_redirects(post, fallback_suffix, targets=ROUTE_TARGETS):
    """Post every target through `post(target) -> response`; the targets whose answer was not a redirect to the
    fallback on this site (a server error, another site, or the target kept), with what came back."""
    wrong = []
    for target in targets:
        response = post(target)
        if "\x00" in target and response.status_code == 400 and "Location" not in response.headers:
            continue  # a NUL byte is refused before any view runs (refusals.refuse_control_bytes): no redirect at all
        location = response.headers.get("Location", "")
        home = lands_on_this_site(location) and "evil" not in location and location.endswith(fallback_suffix)
        if response.status_code not in (302, 303) or not home:
            wrong.append((target, response.status_code, location))
    return wrong


def test_login_next_stays_home(app):
    """POST /login?next=…: the employee lands on the home page for every foreign target."""
    make_employee(email="anna@example.com")

    def post(target):
        """Log in with a fresh browser (a logged-in one would skip the redirect under test)."""
        return app.test_client().post(
            "/login", query_string={"next": target}, data={"email": "anna@example.com", "password": PASSWORD}
        )

    assert _wrong_redirects(post, "/", HASHED_ROUTE_TARGETS) == []


def test_login_next_keeps_a_local_page(app, client):
    """A local target survives the login."""
    make_employee(email="anna@example.com")
    response = client.post(
        "/login", query_string={"next": "/tickets?page=2"}, data={"email": "anna@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/tickets?page=2"


def test_language_switch_next_stays_home(client):
    """The footer's language switch goes back only to pages of this site."""
    assert _wrong_redirects(lambda target: client.post("/language", data={"language": "en", "next": target}), "/") == []


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


def test_messenger_next_stays_on_the_thread(app, client, login):
    """A plain (no-JavaScript) post goes back only to a page of this site, else to the thread."""
    scene = Scene(app)
    login(scene.moderator)

    def post(target):
        """A message posted by a plain form with `next`."""
        return client.post(f"/tickets/{scene.ticket.id}/messages", data={"body": "Hallo", "next": target})

    assert _wrong_redirects(post, f"/tickets/{scene.ticket.id}/messages") == []


def test_pin_next_stays_on_the_code(demo, client):
    """After the PIN only pages of that code are targets."""

    def post(target):
        """The right PIN with `next`."""
        return client.post("/c/demo-pin/pin", data={"pin": "4711", "next": target})

    assert _wrong_redirects(post, "/c/demo-pin", HASHED_ROUTE_TARGETS + ["/c/demo-pin/\t/evil.example"]) == []
