"""Search folds German text the same way on SQLite and PostgreSQL: tables of query → must find / must not find over
tickets (full text and numbers in every status), devices, customers, employees, codes and templates."""
import re

import pytest
import sqlalchemy as sa

from app import text_folding
from app.blueprints.tickets import overview
from app.enums import Role, Visibility
from app.extensions import db
from app.models import Code, Customer, Device, Employee, Template, Ticket
from app.services import search
from app.services import tickets as ticket_service
from app.workflow import TicketStatus
from tests import factories

RUN_ON_POSTGRES = True

# Ticket texts (posted as updates, so they go through the services into the search document).
TICKET_TEXTS = {
    "kuehl": "Kühlraum KK-9 vereist",
    "kuehl_ae": "Kuehlraum Tür klemmt",
    "strasse": "Lieferung über die Straße",
    "mueller": "Rückruf bei Herrn Müller",
    "mueller_ae": "Rückruf bei Herrn Mueller",
    "michael": "Anruf von Michael",
    "odd": "Rabatt 50% auf Teil_7, Kunde sagt \"dringend\"",
}
# query → (must find, must not find), by the keys of TICKET_TEXTS.
TICKET_PAIRS = [
    ("Kühlraum", {"kuehl", "kuehl_ae"}, {"strasse"}),
    ("KÜHLRAUM", {"kuehl", "kuehl_ae"}, {"strasse"}),
    ("kühlraum", {"kuehl", "kuehl_ae"}, set()),
    ("kuehlraum", {"kuehl", "kuehl_ae"}, set()),
    ("KUEHLRAUM", {"kuehl", "kuehl_ae"}, set()),
    ("kuhlraum", {"kuehl"}, set()),
    ("kühl", {"kuehl", "kuehl_ae"}, set()),  # words are prefixes
    ("kühlraum vereist", {"kuehl"}, {"kuehl_ae"}),  # every word must match
    ("TÜR", {"kuehl_ae"}, {"kuehl"}),
    ("Straße", {"strasse"}, set()),
    ("STRASSE", {"strasse"}, set()),
    ("strasse", {"strasse"}, set()),
    ("STRAẞE", {"strasse"}, set()),
    ("ÜBER", {"strasse"}, set()),
    ("ueber", {"strasse"}, set()),
    ("Müller", {"mueller", "mueller_ae"}, {"michael"}),
    ("MÜLLER", {"mueller", "mueller_ae"}, set()),
    ("Mueller", {"mueller", "mueller_ae"}, set()),
    ("Muller", {"mueller"}, set()),
    ("Michael", {"michael"}, set()),
    ("Michal", set(), {"michael"}),
    ('"Kühlraum"', {"kuehl", "kuehl_ae"}, set()),
    ("'Kühlraum'", {"kuehl", "kuehl_ae"}, set()),
    ('"dringend"', {"odd"}, set()),
    ("50%", {"odd"}, set()),
    ("teil_7", {"odd"}, set()),
    ("%", set(), set(TICKET_TEXTS)),
    ("_", set(), set(TICKET_TEXTS)),
    ("%_%", set(), set(TICKET_TEXTS)),
    ('"', set(), set(TICKET_TEXTS)),
    ("'", set(), set(TICKET_TEXTS)),
    ("kühlraum OR presse", set(), {"kuehl"}),  # no operators: "or" is a word none of them has
]


def _ticket_world():
    """A moderator and one OPEN ticket per text of TICKET_TEXTS; {key: ticket id}."""
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    flow = factories.make_flow(template)
    device = factories.make_device(template)
    made = {}
    for key, text in TICKET_TEXTS.items():
        ticket = factories.make_ticket(flow, device, moderator)
        ticket_service.post_update(ticket, text, Visibility.INTERNAL, actor=moderator)
        made[key] = ticket.id
    return moderator, made


def _overview_ids(query, me, **filters):
    """Ticket ids the overview lists for search `query`, and the hidden match (or None)."""
    page = overview.load_page(overview.Filters(q=query, **filters), me, 100)
    return {ticket.id for ticket in page.tickets}, page.hidden_match


def _check_pairs(pairs, ids, found):
    """Mismatches of a table: (query, missing, unexpected) for each pair that fails."""
    failures = []
    for query, must, must_not in pairs:
        got = found(query)
        missing = {key for key in must if ids[key] not in got}
        unexpected = {key for key in must_not if ids[key] in got}
        if missing or unexpected:
            failures.append((query, sorted(missing), sorted(unexpected)))
    return failures


def test_ticket_search_folds_case_umlauts_and_sharp_s(app, db_backend):
    moderator, ids = _ticket_world()
    assert _check_pairs(TICKET_PAIRS, ids, lambda query: _overview_ids(query, moderator)[0]) == []


def test_reindex_all_folds_like_a_write(app, db_backend):
    moderator, ids = _ticket_world()
    written = dict(db.session.execute(sa.select(search.documents.c.ticket_id, search.documents.c.body)).all())
    search.reindex_all()
    rebuilt = dict(db.session.execute(sa.select(search.documents.c.ticket_id, search.documents.c.body)).all())
    assert rebuilt == written
    assert "kuehlraum" in rebuilt[ids["kuehl"]] and "kuhlraum" in rebuilt[ids["kuehl"]]
    assert _check_pairs(TICKET_PAIRS, ids, lambda query: _overview_ids(query, moderator)[0]) == []


NUMBER_SPELLINGS = ["{n}", "T-{n:05d}", "t{n}", "T{n}", "#{n}", "T {n}", "t-{n}", " {n} "]


def _ticket_in(status, flow, device, moderator):
    """A submitted ticket put into `status` (the row as the workflow leaves it)."""
    ticket = factories.make_ticket(flow, device, moderator)
    ticket.status = status
    db.session.commit()
    return ticket


def test_a_ticket_number_finds_its_ticket_in_every_status(app, db_backend):
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    flow, device = factories.make_flow(template), factories.make_device(template)
    by_status = {status: _ticket_in(status, flow, device, moderator) for status in overview.LISTED_STATUSES}
    draft = factories.make_ticket(flow, device, moderator, submit=False)
    failures = []
    for status, ticket in by_status.items():
        hidden_by_default = status not in overview.DEFAULT_STATUSES
        for spelling in NUMBER_SPELLINGS:
            query = spelling.format(n=ticket.id)
            listed, hidden = _overview_ids(query, moderator)
            shown = {ticket_.id for ticket_ in ([hidden] if hidden else [])} | listed
            if ticket.id not in shown:
                failures.append((status.name, query, "not found"))
            if hidden_by_default and (hidden is None or hidden.id != ticket.id or ticket.id in listed):
                failures.append((status.name, query, "not shown apart as hidden by the status filter"))
            if not hidden_by_default and hidden is not None:
                failures.append((status.name, query, "said to be hidden although listed"))
    assert failures == []
    assert {TicketStatus.CLOSED, TicketStatus.CANCELLED} <= set(by_status) - set(overview.DEFAULT_STATUSES)
    # Drafts stay out, whoever searches; other filters still apply.
    assert _overview_ids(str(draft.id), moderator) == (set(), None)
    closed = by_status[TicketStatus.CLOSED]
    assert _overview_ids(str(closed.id), moderator, device_id=device.id + 1000) == (set(), None)
    assert _overview_ids(str(closed.id), moderator, statuses=[TicketStatus.CLOSED]) == ({closed.id}, None)


def test_a_number_does_not_show_a_draft_of_someone_else(app, db_backend):
    moderator, other = factories.make_employee(Role.MODERATOR), factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator, other])
    flow, device = factories.make_flow(template), factories.make_device(template)
    draft = factories.make_ticket(flow, device, other, submit=False)
    assert overview.number_match(overview.Filters(q=str(draft.id)), moderator) is None
    assert overview.number_match(overview.Filters(q=str(draft.id)), other) is None  # own drafts live elsewhere


# ---------------------------------------------------------------- lists

DEVICES = {
    "kk9": ("KK-9 Kühlraum", "", "Halle 3"),
    "kuehl_ae": ("Kuehlraum Nord", "", ""),
    "strasse": ("Presse P-1", "SN-7", "Hinterhof Straße 5"),
    "mueller": ("Müller Fräse", "", ""),
    "mueller_ae": ("Mueller Drehbank", "", ""),
    "michael": ("Michael Säge", "", ""),
    "percent": ("Rabatt 50%", "", ""),
    "underscore": ("Teil_7", "", ""),
    "quote": ('Halle "Ost"', "", ""),
    "apostrophe": ("O'Brien Anlage", "", ""),
    "greek": ("ΣΊΣΥΦΟΣ Kran", "", ""),
}
DEVICE_PAIRS = [
    ("KÜHLRAUM", {"kk9", "kuehl_ae"}, {"strasse"}),
    ("Kühlraum", {"kk9", "kuehl_ae"}, set()),
    ("kuehlraum", {"kk9", "kuehl_ae"}, set()),
    ("kuhlraum", {"kk9"}, {"kuehl_ae"}),
    ("kk-9 kühl", {"kk9"}, {"kuehl_ae"}),
    ("kk-9  KÜHL", {"kk9"}, set()),  # runs of white space are one space
    ("STRASSE", {"strasse"}, set()),
    ("straße", {"strasse"}, set()),
    ("sn-7", {"strasse"}, set()),
    ("Müller", {"mueller", "mueller_ae"}, {"michael"}),
    ("MUELLER", {"mueller", "mueller_ae"}, set()),
    ("muller", {"mueller"}, {"mueller_ae"}),
    ("SÄGE", {"michael"}, set()),
    ("saege", {"michael"}, set()),
    ("Michal", set(), {"michael"}),
    ("%", {"percent"}, set(DEVICES) - {"percent"}),
    ("50%", {"percent"}, set()),
    ("_", {"underscore"}, set(DEVICES) - {"underscore"}),
    ("l_7", {"underscore"}, set()),
    ("e_7", set(), {"underscore"}),  # _ is no wildcard: "Teil_7" has no "e_7"
    ("%_%", set(), set(DEVICES)),
    ('"', {"quote"}, set(DEVICES) - {"quote"}),
    ('"ost"', {"quote"}, set()),
    ("'", {"apostrophe"}, set(DEVICES) - {"apostrophe"}),
    ("o'brien", {"apostrophe"}, set()),
    ("σίσυφος", {"greek"}, set()),  # not only ASCII: Greek capitals, final sigma, accents
    ("ΣΙΣΥΦΟΣ", {"greek"}, set()),
]


def _devices():
    """The DEVICES, made through the ORM; {key: id}."""
    template = factories.make_template()
    ids = {}
    for key, (name, serial, location) in DEVICES.items():
        device = Device(template=template, name=name, serial_number=serial, location=location)
        db.session.add(device)
        db.session.flush()
        ids[key] = device.id
    db.session.commit()
    return ids


def _matching(model, query):
    """Ids of `model` rows whose search key contains `query`."""
    return set(db.session.scalars(sa.select(model.id).where(model.search_condition(query))))


def test_device_search_folds_and_takes_wildcards_literally(app, db_backend):
    ids = _devices()
    assert _check_pairs(DEVICE_PAIRS, ids, lambda query: _matching(Device, query)) == []


def test_device_key_follows_every_write(app, db_backend):
    from app.services.devices import save_device

    admin = factories.make_employee(Role.ADMIN)
    template = factories.make_template()
    device = save_device(None, template_id=template.id, name="Kältemaschine", location="Keller", actor=admin)
    assert _matching(Device, "KAELTE") == {device.id}
    save_device(device, template_id=template.id, name="Presse", location="Keller", actor=admin)
    assert _matching(Device, "kälte") == set() and _matching(Device, "PRESSE") == {device.id}
    device.location = "Dachgeschoß"  # any ORM write, not only the service's
    db.session.commit()
    assert _matching(Device, "dachgeschoss") == {device.id}


CUSTOMERS = {
    "baeckerei": {"name": "Bäckerei Sonnenschein", "contact_name": "Jürgen Groß", "email": "info@baeckerei.example"},
    "mueller": {"name": "Müller Metallbau GmbH", "phone": "+49 30 1234"},
    "mueller_ae": {"name": "Mueller & Söhne", "email": "kontakt@mueller.example"},
    "percent": {"name": "100% Kälte KG"},
}
CUSTOMER_PAIRS = [
    ("BÄCKEREI", {"baeckerei"}, set()),
    ("backerei", {"baeckerei"}, set()),
    ("GROSS", {"baeckerei"}, set()),
    ("jürgen", {"baeckerei"}, set()),
    ("Müller", {"mueller", "mueller_ae"}, set()),
    ("muller", {"mueller"}, {"mueller_ae"}),
    ("SÖHNE", {"mueller_ae"}, set()),
    ("%", {"percent"}, {"mueller", "baeckerei"}),
    ("_", set(), set(CUSTOMERS)),
    ("1234", {"mueller"}, set()),
]


def test_customer_search_folds(app, db_backend):
    ids = {}
    for key, fields in CUSTOMERS.items():
        customer = Customer(**fields)
        db.session.add(customer)
        db.session.flush()
        ids[key] = customer.id
    db.session.commit()
    assert _check_pairs(CUSTOMER_PAIRS, ids, lambda query: _matching(Customer, query)) == []


def test_employee_code_and_template_searches_fold(app, db_backend):
    jurgen = factories.make_employee(name="Jürgen Weiß", email="jw@example.com")
    other = factories.make_employee(name="Anna Schmidt", email="anna_s@example.com")
    assert _matching(Employee, "WEISS") == {jurgen.id} and _matching(Employee, "juergen") == {jurgen.id}
    assert _matching(Employee, "_") == {other.id}
    template = factories.make_template(name="Kühlzelle KZ-2")
    assert _matching(Template, "KUEHLZELLE") == {template.id} and _matching(Template, "kuhl") == {template.id}
    device = factories.make_device(template, name="Gefrierschrank Süd")
    code = factories.make_code(device)
    code.label = "Tür hinten"
    db.session.commit()
    assert _matching(Code, "TUER") == {code.id} and _matching(Code, "%") == set()


def test_fold_keeps_the_separator_out_of_queries():
    assert text_folding.fold("a\x1fb") == ("a b", "a b")
    assert text_folding.search_key("Kühlraum", "", None, "Halle") == "kuehlraum\x1fkuhlraum\x1fhalle"
    assert text_folding.fold("ＫÜＨＬ") == ("kuehl", "kuhl")  # full-width letters
    assert text_folding.words("Kühlraum_2 KK-9") == [("kuehlraum", "kuhlraum"), ("2",), ("kk",), ("9",)]


# ---------------------------------------------------------------- routes


def _listed(response, testid):
    """The names shown in the rows (first link text) of an administration list."""
    html = response.get_data(as_text=True)
    return re.findall(rf'data-testid="{testid}"[^>]*>\s*<td[^>]*>(?:<input[^>]*></td>\s*<td[^>]*>)?<a [^>]*>([^<]*)</a>', html)


@pytest.mark.parametrize(
    ("path", "testid", "query", "expected"),
    [
        ("/admin/devices", "device-row", "KÜHLRAUM", ["KK-9 Kühlraum", "Kuehlraum Nord"]),
        ("/admin/devices", "device-row", "%", ["Rabatt 50%"]),
        ("/admin/customers", "customer-row", "BACKEREI", ["Bäckerei Sonnenschein"]),
        ("/admin/employees", "employee-row", "WEISS", ["Jürgen Weiß"]),
        ("/admin/templates", "template-row", "kuehlzelle", ["Kühlzelle KZ-2"]),
        ("/admin/codes", "code-row", "SÜD", ["Tür hinten"]),  # codes are found by their device too
        ("/admin/codes", "code-row", "tuer", ["Tür hinten"]),
    ],
)
def test_admin_list_searches(app, login, path, testid, query, expected):
    admin = factories.make_employee(Role.ADMIN)
    factories.make_employee(name="Jürgen Weiß")
    template = factories.make_template(name="Kühlzelle KZ-2")
    factories.make_template(name="Presse HP-1")
    for name in ("KK-9 Kühlraum", "Kuehlraum Nord", "Rabatt 50%", "Presse P-1"):
        factories.make_device(template, name=name)
    code = factories.make_code(factories.make_device(template, name="Gefrierschrank Süd"))
    code.label = "Tür hinten"
    factories.make_code(factories.make_device(template, name="Ofen"))
    db.session.add_all([Customer(name="Bäckerei Sonnenschein"), Customer(name="Müller Metallbau")])
    db.session.commit()
    client = login(admin)
    response = client.get(path, query_string={"q": query})
    assert response.status_code == 200
    assert sorted(_listed(response, testid)) == sorted(expected)
    html = response.get_data(as_text=True)
    assert 'role="search"' in html and 'name="q"' in html
    assert f'value="{query}"' in html  # the box keeps what was typed
    field_id = re.search(r'<input id="([a-z-]+-search)" type="search" name="q"', html).group(1)
    assert f'<label for="{field_id}">' in html
    everything = client.get(path)
    assert len(_listed(everything, testid)) > len(expected)
    nothing = client.get(path, query_string={"q": "Michal"})
    assert _listed(nothing, testid) == []
    assert 'data-testid="search-empty"' in nothing.get_data(as_text=True)
    assert "Michal" in nothing.get_data(as_text=True)


def test_device_picker_of_a_new_ticket_folds(app, login):
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    factories.make_flow(template)
    for name in ("KK-9 Kühlraum", "Presse P-1", "Rabatt 50%"):
        factories.make_device(template, name=name)
    client = login(moderator)
    for query, shown, hidden in [
        ("KÜHLRAUM", "KK-9 Kühlraum", "Presse P-1"),
        ("kuehlraum", "KK-9 Kühlraum", "Presse P-1"),
        ("%", "Rabatt 50%", "KK-9 Kühlraum"),
    ]:
        html = client.get("/tickets/new", query_string={"q": query}).get_data(as_text=True)
        assert shown in html and hidden not in html, query
    html = client.get("/tickets/new", query_string={"q": "_"}).get_data(as_text=True)
    assert "KK-9 Kühlraum" not in html and "Rabatt 50%" not in html


def test_overview_says_a_number_found_a_hidden_ticket(app, login, db_backend):
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    flow, device = factories.make_flow(template), factories.make_device(template)
    closed = _ticket_in(TicketStatus.CLOSED, flow, device, moderator)
    open_ticket = _ticket_in(TicketStatus.OPEN, flow, device, moderator)
    client = login(moderator)
    html = client.get("/tickets", query_string={"q": f"T-{closed.id:05d}"}).get_data(as_text=True)
    notice = re.search(r'<div class="alert" role="status" data-testid="hidden-match">(.*?)</div>', html, re.DOTALL).group(1)
    assert f'data-testid="ticket-row" data-ticket-number="{closed.id}"' in notice
    assert f'href="/tickets/{closed.id}"' in notice
    assert f"T-{closed.id:05d}" in notice and "GESCHLOSSEN" in notice.upper()
    html = client.get("/tickets", query_string={"q": str(open_ticket.id)}).get_data(as_text=True)
    assert 'data-testid="hidden-match"' not in html
    # An open ticket's number links that ticket above the list, before texts that merely hold the digits; its row
    # stays in the list (once).
    notice = re.search(r'<div class="alert" role="status" data-testid="number-match">(.*?)</div>', html, re.DOTALL).group(1)
    assert f'href="/tickets/{open_ticket.id}"' in notice and 'data-testid="ticket-row"' not in notice
    assert html.index('data-testid="number-match"') < html.index('class="card"')
    assert html.count(f'data-testid="ticket-row" data-ticket-number="{open_ticket.id}"') == 1
    htmx = client.get("/tickets", query_string={"q": f"#{closed.id}"}, headers={"HX-Request": "true"})
    assert 'data-testid="hidden-match"' in htmx.get_data(as_text=True)  # the results block carries it too


def test_overview_says_punctuation_alone_finds_nothing(app, login, db_backend):
    moderator = factories.make_employee(Role.MODERATOR)
    template = factories.make_template(fleet=[moderator])
    factories.make_ticket(factories.make_flow(template), factories.make_device(template), moderator)
    client = login(moderator)
    for query in ("%", "_", '"', "'", "--", "*"):
        html = client.get("/tickets", query_string={"q": query}).get_data(as_text=True)
        assert 'data-testid="search-unsearchable"' in html, query
        assert 'data-testid="ticket-row"' not in html, query
    html = client.get("/tickets", query_string={"q": "presse"}).get_data(as_text=True)
    assert 'data-testid="search-unsearchable"' not in html and 'data-testid="ticket-row"' in html


def test_unsearchable_notice_is_german_and_english(app, login):
    moderator = factories.make_employee(Role.MODERATOR, language="en")
    client = login(moderator)
    html = client.get("/tickets", query_string={"q": "%"}).get_data(as_text=True)
    assert "Please enter words or a ticket number" in html


def test_ticket_numbers_in_documents_survive_folding(app, db_backend):
    _moderator, ids = _ticket_world()
    ticket = db.session.get(Ticket, ids["odd"])
    assert search.document_text(ticket.id).startswith(f"t {ticket.id:05d} {ticket.id} ")
