"""Every input is answered: each route (every rule and method) and each Socket.IO event, fed generated bad values
as each role, answers with a clear refusal (4xx and a message) or works, and never with a 5xx or an exception.

Values come from hypothesis: path ids out of range, zero, negative or in other scripts' digits; query strings and
form fields for the parameters each view reads (found while the test runs: the request's MultiDicts record every
key a view or its WTForms form asks for, plus a list from the views) holding empty strings, huge numbers, NUL and
other control characters, 10,000-character strings, repeated keys, non-UTF-8 percent escapes, wrong JSON types;
headers HX-Request, wrong Content-Type, bad Range and junk If-None-Match. Errors logged at ERROR fail the test.
"""
import logging
import os
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from app.enums import Role, Visibility
from app.extensions import db, socketio
from app.identity import sign_code_user_key
from app.models import Code, Employee, Flow, Organisation, WebhookEndpoint
from app.services import offers
from tests.factories import make_code_visitor, make_ticket

ROLES = ("anonymous", "code user", "member", "moderator", "admin")
ACCEPTED = {200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409, 413, 416, 422, 429}
# Drawn requests per route, method and role: 3 keeps the file near 30 s for CI; FUZZ_EXAMPLES=50 explores deeper
# (with fresh random values each run instead of the fixed seed).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
EXPLORING = "FUZZ_EXAMPLES" in os.environ

# Parameters the views read (grep request.args/form/values in app/), merged with what the running views ask for.
KNOWN_KEYS = {
    "all_updates", "as", "auth", "before", "body", "client_id", "comment", "confirm", "customer", "customer_id",
    "device", "download", "element", "email", "employee", "endpoint", "event", "flow", "go", "have", "ids",
    "internal", "kind", "language", "message", "name", "next", "p256dh", "page", "part", "password", "pin",
    "priority", "q", "responsible", "restart", "score", "tab", "template", "template_id", "timeline", "updates",
    "v", "version", "visibility", "rating", "sort", "direction", "count", "status", "code", "remember", "label",
    "position", "answer", "value", "before_id", "created_from", "created_to", "start", "end",
    "url", "description", "events", "active",
}
asked = {}  # endpoint -> keys its view read from args, form or values (grows while the test runs)

ID_VALUES = ["1", "2", "3", "0", "00", "2147483647", "2147483648", "99999999999999999999", "١٢", "²"]
TOKEN_VALUES = ["demo-press", "demo-pin", "nope", "x" * 300, "%00", "%ff%fe", "demo-press%0A", "%E2%80%AE"]
PATH_VALUES = ["css/app.css", "js/htmx-4.0.1.min.js", "..%2f..%2fetc/passwd", "%ff", "x" * 1000]
TEXT_VALUES = [
    "", " ", "0", "-1", "1", "2", "3", "2147483648", "9" * 40, "1e309", "NaN", "-0", "3.5", "true", "on", "yes",
    "public", "internal", "PUBLIC", "high", "start", "finish", "close", "reopen", "de", "en", "xx", "\x00",
    "a\x00b", "\x1b[31m\x07", "\r\n\t", "\u202e", "١٢", "²", "x" * 10_000, "<script>", "{}", "[]",
    "null", "9999-12-31", "0001-01-01", "2026-02-30", "/\\evil.example", "//evil.example", "https://evil.example/", "mailto:x", "a@b", "💥" * 50,
]
RAW_ESCAPES = ["%ff", "%fe%ff", "%c3%28", "%00", "%", "%zz", "%ed%a0%80"]  # non-UTF-8 and broken percent-escapes
JSON_BODIES = [
    b"", b"{", b"null", b"1", b'"x"', b"[]", b"[1,2]", b'{"endpoint": 5}', b'{"endpoint": [], "keys": "x"}',
    b'{"endpoint": "https://push.example.com/x", "keys": {"p256dh": 1, "auth": null}}', b'{"a": {"b": {"c": [[[]]]}}}',
    b'\xff\xfe{"x": 1}', b"9" * 400,
]
HEADER_CHOICES = {
    "HX-Request": ["true", "false", "\x00"],
    "Content-Type": [
        "application/json", "multipart/form-data", "multipart/form-data; boundary=", "text/plain; charset=utf-99",
        "application/x-www-form-urlencoded; charset=latin-9", "image/png",
    ],
    "Range": ["bytes=abc", "bytes=999999999-", "bytes=5-1", "bytes=0-0,0-0,0-0", "items=1-2", "bytes=-0"],
    "If-None-Match": ['"junk"', "*", "W/", '"' + "x" * 2000 + '"', "\x00"],
    "If-Modified-Since": ["yesterday", "Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 31 Dec 9999 23:59:59 GMT"],
    "Accept-Language": ["xx", "de;q=foo", "*", "en-US,en;q=0.5"],
    "HX-Current-URL": ["javascript:alert(1)", "%ff"],
}


class RecordingArgs(MultiDict):
    """A request MultiDict that notes which keys the view asked for, so later examples fill exactly those."""

    def _note(self, key):
        from flask import has_request_context, request

        if has_request_context() and request.endpoint and isinstance(key, str):
            asked.setdefault(request.endpoint, set()).add(key)

    def get(self, key, default=None, type=None):
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


@pytest.fixture
def world(demo, login):
    """Demo data plus a code user's PUBLIC ticket, an INTERNAL ticket, a draft and a webhook endpoint; one client per
    role."""
    app = demo
    app.config["SOCKET_EVENT_LIMIT"] = 1_000_000
    app.config["SOCKET_REFUSALS_BEFORE_DISCONNECT"] = 1_000_000
    app.request_class.parameter_storage_class = RecordingArgs
    code = db.session.scalar(sa.select(Code).filter_by(token="demo-press"))
    flow = db.session.scalar(sa.select(Flow).filter_by(template_id=code.device.template_id, active=True))
    moderator = db.session.scalar(sa.select(Employee).filter_by(role=Role.MODERATOR))
    visitor = make_code_visitor(code)
    public = make_ticket(flow, code.device, visitor)
    offers.accept_offer(public, actor=offers.employee_by_email("anna@example.com"))
    make_ticket(flow, code.device, moderator, visibility=Visibility.INTERNAL)
    make_ticket(flow, code.device, visitor, submit=False)
    db.session.add(WebhookEndpoint(url="https://hooks.example.com/ticketwerk", events=["ticket.created"], secret="whsec_x"))
    db.session.commit()
    cookie = sign_code_user_key(visitor.code_user.key)
    emails = {"member": "anna@example.com", "moderator": "moderator@example.com", "admin": "admin@example.com"}
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role == "code user":
            client.set_cookie(app.config["CODE_USER_COOKIE"], cookie, domain="localhost")
        clients[role] = client
    yield {"app": app, "clients": clients, "emails": emails, "cookie": cookie, "login": login}
    app.request_class.parameter_storage_class = MultiDict


def _sign_in_again(world, role):
    """Each request starts signed in as the role: a fuzzed 'sign out' or 'end sessions' must not blind the rest."""
    client = world["clients"][role]
    if role == "code user":
        client.set_cookie(world["app"].config["CODE_USER_COOKIE"], world["cookie"], domain="localhost")
    elif role in world["emails"]:
        db.session.expire_all()
        employee = db.session.scalar(sa.select(Employee).filter_by(email=world["emails"][role]))
        employee.active = True
        organisation = db.session.get(Organisation, 1)
        organisation.two_factor_roles = []  # a fuzzed settings form may have required it
        db.session.commit()
        world["login"](employee, client)
    return client


def _routes(app):
    """(rule, method) for every rule of the URL map and each of its methods."""
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    return [(rule, method) for rule in rules for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def _path(draw, rule):
    """The rule's URL with a drawn value in each variable part (raw percent-escapes kept as they are)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "IdConverter":
            value = draw(st.sampled_from(ID_VALUES))
        elif kind == "PathConverter":
            value = draw(st.sampled_from(PATH_VALUES))
        else:
            value = draw(st.sampled_from(TOKEN_VALUES))
        value = quote(value, safe="%/")
        for pattern in (f"<int:{name}>", f"<path:{name}>", f"<{name}>"):
            path = path.replace(pattern, value)
    return path


def _encoded_pairs(draw, keys):
    """`key=value&…` bytes for some of `keys`: values drawn, keys repeated, raw non-UTF-8 escapes mixed in."""
    parts = []
    for key in draw(st.lists(st.sampled_from(keys), max_size=8)):
        for _ in range(draw(st.integers(1, 2))):
            if draw(st.integers(0, 9)) == 0:
                value = draw(st.sampled_from(RAW_ESCAPES))
            else:
                value = quote(draw(st.sampled_from(TEXT_VALUES)), safe="")
            parts.append(f"{quote(key, safe='')}={value}")
    return "&".join(parts).encode("ascii")


def _request_for(draw, rule, method, keys):
    """A drawn request (path, query, body, headers) for one rule and method, filling some of `keys`."""
    path = _path(draw, rule)
    query = _encoded_pairs(draw, keys).decode("ascii")
    path = f"{path}?{query}" if query else path
    names = draw(st.lists(st.sampled_from(sorted(HEADER_CHOICES)), max_size=3, unique=True))
    headers = {name: draw(st.sampled_from(HEADER_CHOICES[name])) for name in names}
    kwargs = {"method": method, "headers": headers}
    if method != "GET":
        body_kind = draw(st.sampled_from(["form", "form", "json", "multipart", "none"]))
        if body_kind == "form":
            kwargs["data"] = _encoded_pairs(draw, keys)
            kwargs["content_type"] = headers.pop("Content-Type", "application/x-www-form-urlencoded")
        elif body_kind == "json":
            kwargs["data"] = draw(st.sampled_from(JSON_BODIES))
            kwargs["content_type"] = headers.pop("Content-Type", "application/json")
        elif body_kind == "multipart":
            from io import BytesIO

            fields = MultiDict()
            for key in draw(st.lists(st.sampled_from(keys), max_size=8)):
                fields.add(key, draw(st.sampled_from(TEXT_VALUES)))
            for name in ("files", "audio", "picture", "logo", "photo"):
                if draw(st.integers(0, 3)) == 0:
                    content = draw(st.sampled_from([b"", b"\x00" * 10, b"GIF89a", b"\x89PNG\r\n\x1a\n" + b"x" * 20]))
                    filename = draw(st.sampled_from(["a.png", "", "../../x.jpg", "\x00.txt", "x" * 300 + ".pdf"]))
                    fields.add(name, (BytesIO(content), filename))
            headers.pop("Content-Type", None)
            kwargs["data"] = fields
            kwargs["content_type"] = "multipart/form-data"
    return path, kwargs


def _answers_every_drawn_request(world, caplog, role, rule, method):
    """The property for one rule and method as `role`: every drawn request is answered without a server error."""
    keys = sorted(KNOWN_KEYS | asked.get(rule.endpoint, set()))  # fixed while this route's examples run

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not EXPLORING, phases=[Phase.generate])
    @given(data=st.data())
    def answers(data):
        """One drawn request to this rule and method."""
        path, kwargs = _request_for(data.draw, rule, method, keys)
        client = _sign_in_again(world, role)
        caplog.clear()
        try:
            response = client.open(path, **kwargs)
        except HTTPException as error:  # never expected: every HTTP error is answered by the app's handlers
            raise AssertionError(f"{method} {path}: unhandled {error!r}") from error
        body, mimetype = response.get_data(), response.mimetype
        response.close()  # a file answer's open file, as a WSGI server would close it
        db.session.rollback()
        errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
        assert response.status_code in ACCEPTED, (role, method, path, kwargs, response.status_code)
        assert not errors, (role, method, path, kwargs, errors)
        if path.startswith("/api/v1/") and response.status_code >= 400:  # the API answers problem details
            assert mimetype == "application/problem+json", (method, path, response.status_code)
        elif response.status_code in (400, 405) and "HX-Request" not in kwargs["headers"]:
            assert b'data-testid="error-page"' in body, (method, path, response.status_code)

    return answers


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_bad_input_without_a_server_error(world, caplog, role):
    """Each rule × method as this role, with drawn path parts, query, body and headers: a 2xx/3xx or a clear
    4xx (400/401/403/404/405/409/413/416/422/429), never a 5xx, an exception or an ERROR in the log."""
    caplog.set_level(logging.ERROR)
    routes = _routes(world["app"])
    assert len(routes) > 100
    for rule, method in routes:
        _answers_every_drawn_request(world, caplog, role, rule, method)()


SOCKET_PAYLOADS = [
    None, 0, -1, 2**80, 3.5, True, "", "a\x00b", "x" * 10_000, [], [1, 2], {}, {"ticket": None},
    {"ticket": 2**80}, {"ticket": -1}, {"ticket": "1\x00"}, {"ticket": "١"}, {"ticket": [1]}, {"ticket": {"id": 1}},
    {"ticket": 1, "as": ["code"]}, {"ticket": 1, "as": "code"}, {"ticket": 1, "as": None}, {"ticket": "1", "as": 5},
    {"ticket": 1, "message": [1]}, {"ticket": 1, "message": 2**80}, {"ticket": 1, "message": {"x": 1}},
    {"ticket": 1, "message": "x" * 10_000}, {"ticket": 1, "body": {"a": [1]}}, {"ticket": 1, "body": 2**80},
    {"ticket": 1, "body": ["x"]}, {"ticket": 1, "body": "\x00" * 10}, {"ticket": 1, "client_id": 5},
    {"ticket": 1, "client_id": ["x" * 20]}, {"ticket": 1, "client_id": "\x00" * 20}, {"a": {"b": {"c": {"d": [{}]}}}},
]


@pytest.mark.parametrize("role", ROLES[1:])
@settings(
    max_examples=EXAMPLES * 5,
    deadline=None,
    database=None,
    derandomize=not EXPLORING,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payloads=st.lists(
        st.tuples(st.sampled_from(SOCKET_PAYLOADS), st.lists(st.sampled_from(SOCKET_PAYLOADS), max_size=2)),
        min_size=1,
        max_size=4,
    )
)
def test_every_socket_event_answers_wrong_payloads_with_a_refusal(world, caplog, role, payloads):
    """Every registered event (join_ticket, typing, send_message, mark_read, …) with payloads of every wrong type:
    an ack {"ok": False, …} or a clean ignore, never an exception, and the socket still answers afterwards."""
    caplog.set_level(logging.ERROR)
    events = sorted(set(socketio.server.handlers["/"]) - {"connect", "disconnect"})
    assert {"join_ticket", "typing", "send_message", "mark_read"} <= set(events)
    http = _sign_in_again(world, role)
    socket = socketio.test_client(world["app"], flask_test_client=http)
    assert socket.is_connected(), role
    try:
        for event in events:
            for payload, extra in payloads:
                answer = socket.emit(event, payload, *extra, callback=True)
                db.session.rollback()
                assert answer is None or isinstance(answer, dict), (event, payload, answer)
                if isinstance(answer, dict) and not answer.get("ok"):
                    assert answer.get("ok") is False, (event, payload, answer)
                assert socket.is_connected(), (event, payload)
        socket.get_received()
        errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
        assert not errors, errors
        assert socket.emit("join_ticket", {"ticket": 1, "as": "code"}, callback=True)["ok"] in (True, False)
        assert socket.is_connected()
    finally:
        socket.disconnect()



def test_a_wrong_method_is_answered_with_the_apps_own_page(app, client, english):
    """A 405 (like every werkzeug 4xx without a page of its own) is our page with a message, Allow kept."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # nobody signed in: the browser's language
    response = client.post("/healthz")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert b'data-testid="error-page"' in response.data
    assert "This address cannot be used this way." in response.get_data(as_text=True)
    fragment = client.post("/healthz", headers={"HX-Request": "true"})
    assert fragment.status_code == 405 and b'role="alert"' in fragment.data and b"<html" not in fragment.data


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_an_expired_form_is_answered_with_a_message_not_werkzeugs_page(app, client, english):
    """A post without its CSRF token (a page left open past its session) answers 400 and says what to do."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # nobody signed in: the browser's language
    response = client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert "This form has expired. Please reload the page and try again." in response.get_data(as_text=True)


FOUND = [  # (role, method, url, request arguments, status): server errors this test found, answered clearly now
    ("member", "POST", "/login", {"data": b"[1, 2]", "content_type": "application/json"}, (200, 302, 422)),
    ("member", "POST", "/account", {"data": b"1", "content_type": "application/json"}, (422,)),
    ("member", "POST", "/account/two-factor/off", {"data": {}}, (422,)),
    ("member", "POST", "/push/subscribe", {"data": b"[1]", "content_type": "application/json"}, (422,)),
    ("member", "POST", "/push/subscribe", {"data": b'{"endpoint": [], "keys": 5}', "content_type": "application/json"}, (422,)),
    ("member", "POST", "/push/unsubscribe", {"data": b'"x"', "content_type": "application/json"}, (200,)),
    ("moderator", "POST", "/tickets/1/assign", {"data": {"version": "internal", "employee": "ben@example.com"}}, (409,)),
    ("moderator", "POST", "/tickets/1/priority", {"data": {"version": "١", "priority": "low"}}, (409,)),
    ("member", "POST", "/tickets/1/messages/assistant-link", {"data": {"element": "9" * 40}}, (303, 422)),
    ("member", "GET", "/tickets?created_from=0001-01-01&created_to=9999-12-31", {}, (200,)),
    ("admin", "GET", "/admin/audit?start=0001-01-01&end=9999-12-31", {}, (200,)),
    ("admin", "GET", "/admin/codes/labels?ids=%C2%B2,99999999999999999999", {}, (200, 302)),
]


def test_requests_that_once_failed_are_answered_clearly(world):
    """Each request that once answered 500 (a TypeError, AttributeError, ValueError or OverflowError inside)."""
    for role, method, url, arguments, statuses in FOUND:
        client = _sign_in_again(world, role)
        response = client.open(url, method=method, **arguments)
        db.session.rollback()
        assert response.status_code in statuses, (role, method, url, response.status_code)
