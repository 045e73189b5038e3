"""Policy is the only source of access (STYLE.md): every route and socket handler reaches a `policy` decision or
a `visible_to` query helper, and no other module decides by itself what kind of actor it is facing."""
import ast
import inspect
import pathlib
import textwrap
import types

from app.extensions import socketio

APP = pathlib.Path(__file__).resolve().parent.parent / "app"
QUERY_HELPERS = {"visible_to", "visible_clause", "public_history"}
FOLLOW_DEPTH = 4  # a view → its loader or service → the service's helpers

# Endpoints open to everyone by design, each with the reason it needs no policy decision.
OPEN_ENDPOINTS = {
    "static": "our own CSS, JavaScript and icons",
    "health.healthz": "the load balancer's liveness probe",
    "auth.login": "where everyone starts",
    "auth.logout": "ends the asker's own session, whoever they are",
    "account.logo": "the organisation's logo, shown on the code users' pages too",
    "account.accept_invitation": "the signed, expiring invitation token in the URL is the access",
    "auth.set_language": "a preference of this browser only",
    "auth.forgot_password": "asking for a reset link; the answer never tells whether the address has an account",
    "auth.reset_password": "the signed, expiring, single-use reset token in the URL is the access",
    "notifications.manifest": "the web-app manifest browsers fetch before any login",
    "notifications.service_worker": "the service worker script, same for everyone",
    "notifications.push_key": "the public VAPID key (RFC 8292), public by definition",
    "notifications.confirm_receiver_email": "the signed, expiring confirmation token in the URL is the access",
    "api-docs.openapi_json": "the API's OpenAPI document describes the API, not anyone's data",
    "api_docs.show": "the API reference page, rendered from the public OpenAPI document",
}


def _source_tree(function):
    """The AST of a function's own source."""
    return ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(function))))


def _callee(module, call):
    """The app function a call node names, resolved through the calling module's globals, or None."""
    target = call.func
    if isinstance(target, ast.Name):
        found = vars(module).get(target.id)
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        owner = vars(module).get(target.value.id)
        found = getattr(owner, target.attr, None) if isinstance(owner, types.ModuleType) else None
    else:
        found = None
    found = inspect.unwrap(found) if callable(found) else None
    if isinstance(found, types.FunctionType) and found.__module__.startswith("app."):
        return found
    return None


def reaches_policy(function, depth=FOLLOW_DEPTH, seen=None):
    """Whether `function`, its decorators, or an app function they call (followed `depth` deep) ask the policy."""
    seen = set() if seen is None else seen
    function = inspect.unwrap(function)
    if function in seen or depth < 0:
        return False
    seen.add(function)
    module = inspect.getmodule(function)
    tree = _source_tree(function)
    decorators = [ast.Call(func=d, args=[], keywords=[]) for d in tree.body[0].decorator_list]
    for node in [*decorators, *ast.walk(tree)]:
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "policy":
            return True  # a policy function called here, or handed to a guard that calls it
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Attribute) and target.attr in QUERY_HELPERS:
            return True
        callee = _callee(module, node)
        if callee is not None and reaches_policy(callee, depth - 1, seen):
            return True
    return False


def test_every_route_decides_access_through_the_policy(app):
    guards = app.before_request_funcs
    unguarded = []
    for endpoint, view in app.view_functions.items():
        if endpoint in OPEN_ENDPOINTS:
            continue
        blueprint = endpoint.rpartition(".")[0] or None
        checks = [view, *guards.get(blueprint, [])]
        if not any(reaches_policy(check) for check in checks):
            unguarded.append(endpoint)
    assert unguarded == []


def test_every_socket_event_decides_access_through_the_policy(app):
    handlers = socketio.server.handlers["/"]
    assert {"connect", "join_ticket", "send_message"} <= set(handlers)
    open_events = {"disconnect": "frees the closing socket's counters and grants nothing"}
    assert [event for event, handler in handlers.items() if event not in open_events and not reaches_policy(handler)] == []


def test_open_endpoints_exist():
    """An exemption for an endpoint that is gone would hide a new one under the old name."""
    from app import create_app

    names = set(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).view_functions)
    assert set(OPEN_ENDPOINTS) <= names


ACTOR_KIND_ATTRIBUTES = {"is_employee", "is_code_user"}
MAY_READ_ACTOR_KIND = {"policy.py", "identity.py"}  # the policy itself, and identity that builds the actors


def test_no_module_but_the_policy_asks_what_kind_of_actor_it_faces():
    offenders = []
    for path in APP.rglob("*.py"):
        relative = path.relative_to(APP)
        if str(relative) in MAY_READ_ACTOR_KIND or relative.parts[0] == "models":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            asks_policy = isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "policy"
            if isinstance(node, ast.Attribute) and node.attr in ACTOR_KIND_ATTRIBUTES and not asks_policy:
                offenders.append(f"{relative}:{node.lineno}")
            if isinstance(node, ast.Constant) and node.value in ACTOR_KIND_ATTRIBUTES:
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []
