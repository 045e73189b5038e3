"""What a starting app leaves for later (issue 20, start to first answer): the OpenAPI document is described when it is
first read, and each URL rule's builders are compiled when `url_for` first needs them. Later, both give exactly
what the eager way gave."""
import re
import threading

import pytest
from flask import url_for
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, NumberConverter, PathConverter

from app.routing import LazyBuilder, LazyRule


def _api_rules(app):
    """{OpenAPI path: {lower-case methods}} of the API's resource routes in the URL map."""
    paths = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_") and not rule.endpoint.startswith("api_docs."):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            paths.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return paths


def test_a_started_app_has_described_no_api_operation_until_the_document_is_read(app, client):
    api = app.extensions["ticketwerk-api"]
    assert api._undocumented, "the resources are registered but not yet described"
    assert api._spec.to_dict().get("paths", {}) == {}
    document = client.get("/api/v1/openapi.json").get_json()
    assert not api._undocumented
    documented = {path: {method for method in item if method != "parameters"} for path, item in document["paths"].items()}
    assert documented == _api_rules(app)
    tags = {tag["name"] for tag in document["tags"]}
    assert {"tickets", "offers", "devices", "customers", "codes", "templates", "flows", "employees"} == tags
    assert all(operation["tags"][0] in tags for item in document["paths"].values()
               for key, operation in item.items() if key != "parameters")
    assert client.get("/api/v1/openapi.json").get_json() == document  # described once, served the same again


def test_the_document_is_described_once_when_many_requests_read_it_first(app):
    api = app.extensions["ticketwerk-api"]
    barrier, documents = threading.Barrier(8), []

    def read():
        barrier.wait()
        documents.append(api.spec.to_dict())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(documents) == 8 and all(document == documents[0] for document in documents)
    assert len(documents[0]["tags"]) == len({tag["name"] for tag in documents[0]["tags"]})  # no resource twice


def _eager_twin(app):
    """The app's URL map rebuilt with Werkzeug's own Rule, which compiles its builders when added."""
    rules = [Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods, defaults=rule.defaults)
             for rule in app.url_map.iter_rules()]
    return Map(rules, converters=app.url_map.converters)


def _values(rule):
    """Sample values for every argument of `rule`."""
    def sample(converter):
        if isinstance(converter, NumberConverter):
            return 7
        if isinstance(converter, AnyConverter):
            return min(converter.items)
        return "a/b" if isinstance(converter, PathConverter) else "abc"

    return {name: sample(converter) for name, converter in rule._converters.items()}


def test_every_rule_builds_the_url_werkzeugs_eager_rule_builds(app):
    assert all(isinstance(rule, LazyRule) for rule in app.url_map.iter_rules())
    lazy = app.url_map.bind("localhost")
    eager = _eager_twin(app).bind("localhost")
    built = 0
    for rule in app.url_map.iter_rules():
        values = _values(rule)
        for extra in ({}, {"q": "Kühlraum & Co", "page": 2}):
            assert lazy.build(rule.endpoint, {**values, **extra}) == eager.build(rule.endpoint, {**values, **extra})
            built += 1
        assert rule.build(values, append_unknown=False) == eager.map._rules_by_endpoint[rule.endpoint][0].build(
            values, append_unknown=False)
    assert built > 300


def test_eight_threads_building_a_fresh_rule_at_once_all_get_its_url(app):
    barrier, urls = threading.Barrier(8), []

    def build():
        with app.test_request_context():
            barrier.wait()
            urls.append(url_for("tickets.show", number=42, tab="updates"))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert urls == ["http://localhost/tickets/42?tab=updates"] * 8 or urls == ["/tickets/42?tab=updates"] * 8


@pytest.mark.parametrize("endpoint", ["public.device", "static"])
def test_a_rule_is_compiled_only_when_first_built(app, endpoint):
    rule = app.url_map._rules_by_endpoint[endpoint][0]
    builders = (rule._build.__func__, rule._build_unknown.__func__)
    assert all(isinstance(builder, LazyBuilder) and builder.compiled is None for builder in builders)
    with app.test_request_context():
        url_for(endpoint, **_values(rule))
    assert builders[1].compiled is not None  # url_for appends unknown values: that builder is the one it needs
    assert builders[0].compiled is None


def _login_page_of_a_fresh_app(tmp_path, folder):
    """A new app (as after a restart) with the template cache in `folder`; (its jinja environment, /login's HTML)."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import base_config

    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'cache.sqlite'}")
    config["TEMPLATE_CACHE_FOLDER"] = folder
    fresh = create_app(config)
    with fresh.app_context():
        db.create_all()
        response = fresh.test_client().get("/login")
        db.engine.dispose()
    assert response.status_code == 200
    return fresh.jinja_env, response.get_data(as_text=True)


def test_a_restarted_app_loads_compiled_templates_instead_of_compiling_them(tmp_path, monkeypatch):
    """The first start compiles /login's templates and keeps their code; a restart's first /login compiles none and
    answers the same page. An empty TEMPLATE_CACHE_FOLDER keeps nothing."""
    from jinja2 import Environment

    folder = tmp_path / "template-cache"
    _environment, first = _login_page_of_a_fresh_app(tmp_path, str(folder))
    kept = sorted(path.name for path in folder.iterdir())
    assert len(kept) >= 2 and all(name.endswith(".cache") for name in kept)  # the page and the layout it extends

    compiled = []
    real_compile = Environment.compile

    def counting_compile(self, *args, **kwargs):
        compiled.append(args[1] if len(args) > 1 else kwargs.get("name"))
        return real_compile(self, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counting_compile)
    _environment, again = _login_page_of_a_fresh_app(tmp_path, str(folder))
    assert compiled == []
    assert again.count('name="email"') == first.count('name="email"') == 1

    environment, _page = _login_page_of_a_fresh_app(tmp_path, "")
    assert environment.bytecode_cache is None and compiled  # off: compiled again, nothing kept
    assert sorted(path.name for path in folder.iterdir()) == kept
