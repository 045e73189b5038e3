"""Page-or-fragment rendering for htmx, and the response helpers that go with it."""
import json

from flask import current_app, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx():
    """The request came from htmx and wants a fragment (a boosted form or link wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(template, block=None, status=200, **context):
    """The full page, or only `block` of it when htmx asks."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def trigger(response, *events, **events_with_detail):
    """Add HX-Trigger events to a response."""
    payload = {name: True for name in events}
    payload.update(events_with_detail)
    if payload:
        response.headers["HX-Trigger"] = json.dumps(payload)
    return response


def add_vary(response):
    """Caches must keep pages and fragments apart (static files are the same either way)."""
    if request.endpoint != "static":
        response.vary.add("HX-Request")
    return response


def redirect_after_write(url):
    """303 to `url` after a write; htmx requests get 204 with HX-Redirect, so the browser pushes the new URL."""
    if is_htmx():
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
