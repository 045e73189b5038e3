"""The pages and API lists added with reports, service levels, webhooks, the API and the ticket export run the same
number of SQL statements whatever the amount of data (no query per row). Both sizes fill every section of a page
(a report section with rows looks up its names once)."""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Employee
from tests.api_helpers import bearer, token_for
from tests.test_tickets_overview import count_statements

PAGES = [
    ("moderator@example.com", "/reports", False),
    ("moderator@example.com", "/reports?period=week&start=2020-01-01", False),
    ("anna@example.com", "/tickets?due=overdue&sort=due", False),
    ("anna@example.com", "/api/v1/tickets?limit=50", True),
    ("anna@example.com", "/api/v1/tickets?q=Presse&limit=50&status=closed&status=open", True),
    ("moderator@example.com", "/api/v1/devices?limit=50", True),
    ("moderator@example.com", "/api/v1/customers?limit=50", True),
    ("moderator@example.com", "/api/v1/codes?limit=50", True),
    ("moderator@example.com", "/api/v1/employees?limit=50", True),
    ("admin@example.com", "/admin/webhooks", False),
    ("admin@example.com", "/admin/devices", False),
    ("admin@example.com", "/admin/customers", False),
    ("admin@example.com", "/admin/codes", False),
    ("admin@example.com", "/admin/employees", False),
    ("admin@example.com", "/admin/templates", False),
    ("admin@example.com", "/admin/service-levels", False),
    ("admin@example.com", "/admin/audit", False),
    ("anna@example.com", "/", False),
    ("anna@example.com", "/notifications", False),
]


@pytest.mark.parametrize(("email", "url", "api"), PAGES, ids=[url for _e, url, _a in PAGES])
def test_statements_stay_the_same_for_150_and_300_tickets(app, login, demo, email, url, api):
    from app.demo_data import load_bulk_tickets
    from app.services import reports

    employee = db.session.scalar(sa.select(Employee).filter_by(email=email))
    client = login(employee)
    headers = bearer(token_for(employee)) if api else None
    load_bulk_tickets(150)
    reports.rebuild()
    few = _fresh_count(app, client, url, headers)
    load_bulk_tickets(150, seed=7)
    reports.rebuild()
    many = _fresh_count(app, client, url, headers)
    assert few == many
    assert many < 40


def _fresh_count(app, client, url, headers):
    """The statements of `url` with nothing already loaded: the tests share the app's session, whose identity map
    would otherwise hold rows and collections an earlier request loaded and hide a query per row. A first request
    does the once-a-minute writes (a token's last use) beforehand."""
    count_statements(app, client, url, headers)
    db.session.commit()
    db.session.expunge_all()
    return count_statements(app, client, url, headers)
