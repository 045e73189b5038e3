"""schemathesis against the live API: generated requests for every operation of /api/v1/openapi.json, sent to a real
server on loopback as an employee with a read,write token, find no 5xx, no response that breaks its documented
schema, content type or headers, and no status code the document does not list."""
import collections
import io

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.datastructures import FileStorage

from app import create_app
from app.enums import Visibility
from app.extensions import db
from app.models import (
    Attachment,
    Code,
    Customer,
    Device,
    Employee,
    Flow,
    Template,
    Ticket,
)
from app.services import api_tokens, offers, tickets
from tests.conftest import base_config
from tests.factories import make_ticket
from tests.live_server import LiveServer

CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 25  # per operation: the whole run stays well under a minute on two shared cores


def png_bytes():
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    """The app with the demo data and a few tickets, served on loopback; yields (server, moderator's token)."""
    folder = tmp_path_factory.mktemp("api")
    config = base_config(folder, f"sqlite:///{folder / 'api.sqlite'}")
    config.update({"SERVER_NAME": None, "PUBLIC_BASE_URL": None, "API_RATE_LIMIT": "100000 per minute"})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        from app.demo_data import load_demo

        load_demo()
        moderator = db.session.scalar(sa.select(Employee).where(Employee.email == "moderator@example.com"))
        anna = db.session.scalar(sa.select(Employee).where(Employee.email == "anna@example.com"))
        for flow in db.session.scalars(sa.select(Flow).order_by(Flow.id)).all()[:2]:
            device = db.session.scalar(sa.select(Device).where(Device.template_id == flow.template_id).limit(1))
            ticket = make_ticket(flow, device, moderator, visibility=Visibility.PUBLIC)
            offers.assign_employee(ticket, anna, actor=moderator)
            tickets.post_update(ticket, "Foto", Visibility.PUBLIC, actor=moderator,
                                files=[FileStorage(io.BytesIO(png_bytes()), "foto.png", content_type="image/png")])
        secret = api_tokens.create_token(moderator, name="schemathesis", scopes="read,write", actor=moderator).secret
        known = {
            "number": db.session.scalars(sa.select(Ticket.id)).all(),
            "attachment_id": db.session.scalars(sa.select(Attachment.id)).all(),
            "device_id": db.session.scalars(sa.select(Device.id)).all(),
            "code_id": db.session.scalars(sa.select(Code.id)).all(),
            "customer_id": db.session.scalars(sa.select(Customer.id)).all(),
            "template_id": db.session.scalars(sa.select(Template.id)).all(),
            "flow_id": db.session.scalars(sa.select(Flow.id)).all(),
            "employee_id": db.session.scalars(sa.select(Employee.id)).all(),
            "device_flow": db.session.execute(
                sa.select(Device.id, Flow.id).join(Flow, Flow.template_id == Device.template_id)).all(),
        }
    server = LiveServer(app).start()
    yield server, secret, known
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def aim_at_real_rows(case, real):
    """Point some generated requests at rows that exist (ticket numbers, files, a device with its flow), so they
    reach the services instead of stopping at 404; `real` holds one choice per kind, None to keep the generated."""
    for name in ("number", "attachment_id", "device_id", "code_id", "customer_id", "template_id", "flow_id",
                 "employee_id"):
        if real[name] is not None and name in (case.path_parameters or {}):
            case.path_parameters[name] = real[name]
    if real["device_flow"] is not None and isinstance(case.body, dict) and "device" in case.body:
        case.body["device"], case.body["flow"] = real["device_flow"]


def test_api_keeps_to_its_openapi_document(api_server):
    """Every operation of the document, EXAMPLES generated requests each (schemathesis' own pytest loader does not
    run under pytest 9, so the operations are driven here with its Hypothesis strategies)."""
    server, secret, known = api_server
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    seen = collections.Counter()
    for operation in operations:

        @given(case=operation.as_strategy(), real=st.fixed_dictionaries(
            {name: st.sampled_from([None, *values]) for name, values in known.items()}))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def keeps_to_the_document(case, real):
            aim_at_real_rows(case, real)
            response = case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
            seen[(case.operation.label, response.status_code)] += 1

        keeps_to_the_document()
    successes = {label for label, status in seen if status < 300}
    assert len(successes) >= len(operations) // 2, seen  # the requests reached the resources, not only refusals
