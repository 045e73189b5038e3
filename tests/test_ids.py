"""Ids and numbers from outside are read one way (app/ids.py): beyond the database's range, in other scripts' digits
or not numbers at all, they name no row — a 404 or a clear refusal, never a server error — on SQLite and PostgreSQL."""
from urllib.parse import unquote

from app.ids import MAX_ID, parse_id, parse_ids
from app.services.offers import employee_by_email

RUN_ON_POSTGRES = True
BAD_IDS = ["99999999999999999999999", str(MAX_ID + 1), "0", "²", "٣", "١٢", "-1", "1e3", " ", "NaN", "\x00", "%00"]


def test_parse_id_takes_ascii_digits_in_the_databases_range_only():
    assert parse_id("42") == 42 and parse_id(" 7 ") == 7 and parse_id(MAX_ID) == MAX_ID and parse_id("00042") == 42
    for bad in [*BAD_IDS, None, True, 3.0, [], MAX_ID + 1, 0, -5]:
        assert parse_id(bad) is None, repr(bad)
    assert parse_ids(["3", "x", "3", 4, "²"]) == [3, 4]


def test_every_route_with_an_id_answers_404_for_ids_it_cannot_hold(demo, client, login):
    """Each rule's <int:…> parts get out-of-range and foreign-digit values, as an administrator (who may open most)."""
    login(employee_by_email("admin@example.com"))
    app = demo
    rules = [rule for rule in app.url_map.iter_rules() if any(type(c).__name__ == "IdConverter" for c in rule._converters.values())]
    assert len(rules) > 20
    for rule in rules:
        for bad in ("99999999999999999999999", str(MAX_ID + 1), "²", "١٢"):
            path = rule.rule
            for name in rule.arguments:
                value = bad if type(rule._converters[name]).__name__ == "IdConverter" else "demo-press"
                path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value).replace(f"<path:{name}>", value)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method)
                assert response.status_code == 404, (method, path, response.status_code)


def test_query_strings_and_forms_with_bad_ids_answer_clearly(demo, client, login):
    from tests.browser.conftest import public_ticket

    number = public_ticket(demo, anna_accepts=True)
    for bad in BAD_IDS:
        login(employee_by_email("anna@example.com"))
        expected = 400 if "\x00" in unquote(bad) else 200  # a NUL byte is refused before any view runs
        for url in (
            f"/tickets/{number}/messages?before={bad}",
            f"/tickets?template={bad}&flow={bad}&device={bad}&customer={bad}&responsible={bad}&page={bad}",
            f"/tickets?q=T-{bad}",
        ):
            assert client.get(url, headers={"HX-Request": "true"}).status_code == expected, (bad, url)
        read = client.post(f"/tickets/{number}/messages/read", data={"message": bad})
        assert read.status_code < 500, bad
        login(employee_by_email("admin@example.com"))
        assert client.get(f"/admin/audit?employee={bad}&before={bad}").status_code in (200, 400), bad
        created = client.post("/tickets/new", data={"flow": bad, "device": bad})
        assert 400 <= created.status_code < 500, bad


def test_a_nul_byte_anywhere_in_a_request_answers_400_and_changes_nothing(demo, client, login):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Device

    login(employee_by_email("admin@example.com"))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Device))
    for method, url, data in (
        ("GET", "/tickets/new?device=%00", None),
        ("GET", "/c/demo%00press", None),
        ("GET", "/tickets?q=a%00b", None),
        ("POST", "/admin/customers/new", {"name": "Muster\x00GmbH", "kind": "company"}),
    ):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 400, url
        assert "NUL" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == before
