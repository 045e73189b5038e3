"""Nothing scrolls sideways on a 360 px phone, on any page of any role, whatever people typed.

Long unbroken words, web addresses, e-mail addresses, file names and long numbers are planted in every field a
person can fill (through the services), then every page each role reaches is opened at 360 × 740: the code user's
(no account), a member's, a moderator's and an administrator's. The staff pages come from `app.url_map`, so a new
page is visited without being listed here; an endpoint this test cannot fill in fails it until it is visited or
named in SKIPPED with the reason.
"""
import io
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from app.enums import GroupKind, StepType, Visibility
from app.extensions import db
from app.identity import CodeVisitor, read_code_user_key
from app.models import Code, CodeUser, Organisation, Template
from app.services import (
    assistant,
    codes,
    customers,
    device_import,
    devices,
    flows,
    groups,
    messenger,
    notification_links,
    offers,
    organisation,
    password_reset,
    receiver_emails,
    service_levels,
    staff,
    subscriptions,
    templates,
    uploads,
    webhooks,
)
from app.services import tickets as ticket_service
from tests.browser.conftest import assert_accessible, log_in

SMALL_PHONE = {"width": 360, "height": 740}
STAFF = {"member": "anna@example.com", "moderator": "moderator@example.com", "administrator": "admin@example.com"}
# Pages for people without an account; a staff browser would see the same pages (or be sent on to its home page).
CODE_USER_PAGES = (
    "public.", "notifications.code_user_link", "notifications.confirm_receiver_email", "account.accept_invitation",
    "auth.login", "auth.forgot_password", "auth.reset_password",
)

# GET endpoints that are not pages a person reads on a phone, each with the reason.
SKIPPED = {
    "static": "the app's own CSS, JavaScript and icons",
    "files.download": "a file download",
    "files.thumb": "an image",
    "files.view": "an image (the JPEG shown for a HEIC photo)",
    "admin.code_qr_png": "an image",
    "admin.code_qr_svg": "an image",
    "admin.device_picture": "an image",
    "public.picture": "an image",
    "account.logo": "an image",
    "notifications.manifest": "JSON (web app manifest)",
    "notifications.push_key": "JSON (the VAPID key)",
    "notifications.service_worker": "JavaScript",
    "health.healthz": "a health check for the load balancer",
    "notifications.bell": "the bell's count, a fragment inside every staff page's top bar",
    "notifications.recent": "a fragment of the same _items.html the notification page (visited) shows",
    "messenger.thread": "a fragment of the ticket pages (visited), rendered there on load",
    "messenger.composer": "a fragment of the ticket pages (visited), rendered there on load",
    "public.ticket_live": "a fragment of the code user's ticket page (visited), rendered there on load",
    "tickets.export": "a file download (CSV or XLSX of the overview)",
    "admin.device_export": "a file download (CSV or XLSX of the devices)",
    "admin.device_import_example": "a file download (the import's example CSV or XLSX)",
    "reports.csv_export": "a CSV download of one report figure",
}
# The REST API (/api/v1) answers JSON to bearer tokens, not pages; its docs page (api_docs.show, rendered by Swagger UI)
# is checked at 360 px in tests/browser/test_api_docs_browser.py.
API_ENDPOINTS = ("api_", "api-docs.")


def _skipped(endpoint):
    """Whether this GET endpoint is not a page to visit here (SKIPPED, or the API's)."""
    return endpoint in SKIPPED or endpoint.startswith(API_ENDPOINTS)

# Axe on a few of the pages this work changed (axe is slow: not on every page).
AXE_PAGES = {
    "code user": ("public.ticket",), "member": ("notifications.index",), "moderator": ("admin.customer", "tickets.show", "tickets.deliveries"),
    "administrator": ("admin.employees", "admin.webhook", "admin.webhook_deliveries"),
}


def _long(stem, length=120):
    """One word of `length` characters made of `stem`, without spaces (only a hyphen or slash of the stem may break)."""
    return (stem * (length // len(stem) + 1))[:length]


LONG_URL = "https://service.example.com/" + _long("handbuch/hydraulikpresse/kapitel-", 122)  # 150 characters
LONG_WORD = _long("Druckbegrenzungsventileinstellungsanleitung")  # 120 characters
LONG_EMAIL = _long("kundendienst.ansprechpartnerin", 64) + "@" + _long("niederlassungsueddeutschland", 60) + ".example.com"
LONG_NUMBER = "123456789012.987"
LONG_FILE_NAME = _long("Wartungsprotokoll_Hydraulikpresse_", 180) + ".pdf"
PDF = b"%PDF-1.4\n% a small document\n"

# What must be on these pages, so the test cannot pass on pages that show none of the long text.
PLANTED_ON = {
    "public.device": "Hydraulikpressedemopress", "public.wizard_step": "Fehlerbeschreibungsfrage",
    "public.ticket": LONG_URL, "tickets.show": LONG_URL, "tickets.draft_step": "Fehlerbeschreibungsfrage",
    "tickets.index": "Hauptzylinderdichtungsleckage", "home.index": "Hauptzylinderdichtungsleckage",
    "notifications.index": "Hauptzylinderdichtungsleckage", "messenger.open_link": "Fehlerbehebungsanleitung",
    "admin.customer": LONG_EMAIL, "admin.employees": LONG_EMAIL, "admin.teams": "Bereitschaftsdienstmannschaft",
    "admin.code": "Typenschildaufkleber", "admin.flow": "Fehlerbeschreibungsfrage",
    "admin.webhooks": "Warenwirtschaftsanbindung", "admin.webhook": "Warenwirtschaftsanbindung",
    "admin.webhook_deliveries": "Warenwirtschaftsanbindung",
    "admin.device_import_preview": "Importgeraetebezeichnung",
    "tickets.deliveries": "ServicetechnikerinServicetechnikerin",
}


def _pdf(name=LONG_FILE_NAME):
    """An uploaded PDF with a long file name."""
    return FileStorage(io.BytesIO(PDF), filename=name, content_type="application/pdf")


def _png(name):
    """An uploaded photo with a long file name."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    out.seek(0)
    return FileStorage(out, filename=name, content_type="image/png")


def _answers(ticket, actor, *, files=True):
    """Answer every step of a draft with long text: words, a web address, an e-mail address, a long number."""
    for answer in list(ticket.answers):
        kind = answer.type
        if kind == StepType.VISIBILITY:
            raw = Visibility.PUBLIC.value
        elif kind == StepType.TEXT_SHORT:
            raw = _long("Hauptzylinderdichtungsleckage", 250)
        elif kind == StepType.TEXT_LONG:
            raw = f"{LONG_WORD}\n{LONG_URL}\n{LONG_EMAIL}"
        elif kind == StepType.SINGLE_CHOICE:
            raw = answer.options[0]
        elif kind == StepType.MULTI_CHOICE:
            raw = list(answer.options)
        elif kind == StepType.NUMBER:
            raw = LONG_NUMBER
        elif kind == StepType.DATE:
            raw = "2026-11-30"
        elif kind == StepType.YES_NO:
            raw = "yes"
        elif kind == StepType.PRIORITY:
            raw = "high"
        elif kind == StepType.REQUESTER:
            raw = {"name": _long("Anforderungsberechtigte", 119), "email": LONG_EMAIL, "phone": "+49 711 5550100 1234567890"}
        elif kind == StepType.MEDIA:
            raw = None
        else:
            continue
        if kind == StepType.MEDIA:
            photo = _png(_long("Foto_vom_Typenschild_", 150) + ".png")
            stored = uploads.store_uploads([_pdf(), photo] if files else [], ticket=ticket, actor=actor)
            ticket_service.save_answer(ticket, answer.position, [], actor=actor, attachments=stored)
        else:
            ticket_service.save_answer(ticket, answer.position, raw, actor=actor)


def _plant(visitor_key):
    """Long text in every field a person can fill; returns the ids the pages need. Runs in an app context."""
    admin, moderator, anna = (offers.employee_by_email(STAFF[role]) for role in ("administrator", "moderator", "member"))
    org = Organisation.current()
    organisation.update_settings(name=_long("Instandhaltungsgesellschaft", 120), autoclose_days=org.autoclose_days, actor=admin)
    long_employee = staff.create_employee(
        name=_long("Servicetechnikerin", 120), email=LONG_EMAIL, role="member", password="ticketwerk-demo", actor=admin
    )
    invited = staff.create_employee(
        name=_long("Eingeladenermitarbeiter", 120), email="x" + LONG_EMAIL, role="moderator", actor=admin
    )
    team = staff.save_team(None, name=_long("Bereitschaftsdienstmannschaft", 120), member_ids=[anna.id, long_employee.id], actor=admin)
    customer = customers.save_customer(
        None, name=_long("Maschinenbauunternehmen", 160), contact_name=_long("Ansprechpartnerin", 160), email=LONG_EMAIL,
        phone="+497115550100123456789012345678901234567890", address=f"{_long('Industriegebietsstraße', 120)}\n{LONG_URL}",
        actor=moderator,
    )
    press = db.session.scalar(sa.select(Template).filter_by(name="Hydraulikpresse HP-200"))
    press = templates.save_template(
        press, name=_long("Hydraulikpressenbaureihe", 120), description=f"{LONG_WORD} {LONG_URL}", actor=moderator
    )
    notify = groups.save_group(None, template=press, kind="notify", name=_long("Benachrichtigungsempfänger", 120),
                               employee_ids=[moderator.id, admin.id, long_employee.id], team_ids=[team.id], actor=moderator)
    flow = flows.save_flow(None, template=press, title=_long("Störungsmeldungsformular", 120),
                           description=f"{LONG_WORD} {LONG_URL}", notify_group_id=notify.id, actor=moderator)
    service_levels.save_calendar(time_zone="Europe/Berlin", weekdays=[0, 1, 2, 3, 4], start="08:00", end="17:00",
                                 holiday_state="BW", closed_days="24.12.2026\n31.12.2026", actor=admin)
    level = service_levels.save_level(None, template_id=press.id, flow_id=flow.id, priority="high",
                                      first_response_minutes=60, assignment_minutes=240, resolution_minutes=2400,
                                      actor=admin)
    options = "\n".join(_long(stem, 120) for stem in ("Hydraulikölverlust", "Steuerungsfehlermeldung", "Zylinderblockade"))
    question = _long("Fehlerbeschreibungsfrage", 250)
    help_text = f"{LONG_WORD} {LONG_URL} {LONG_EMAIL}"
    first_step = None
    for kind in StepType:
        if kind in (StepType.VISIBILITY, StepType.DEVICE):
            continue
        step = flows.save_step(
            None, flow=flow, type=kind.value, question=f"{kind.value}{question}"[:255], help_text=help_text,
            required=kind != StepType.MEDIA, options=options, is_title=kind == StepType.TEXT_SHORT, actor=moderator,
        )
        first_step = first_step or step
    flows.set_flow_active(flow, True, actor=moderator)
    fleet = next(g for g in press.groups if g.kind == GroupKind.FLEET)
    groups.save_group(fleet, name=_long("Außendiensttechnikergruppe", 120),
                      employee_ids=[e.id for e in fleet.employees] + [long_employee.id], team_ids=[team.id], actor=moderator)
    element = assistant.save_element(
        None, template=press, title=_long("Fehlerbehebungsanleitung", 160),
        body=f"{LONG_WORD}\n\n{LONG_URL}\n\n`{LONG_WORD}`\n\n```\n{LONG_WORD}{LONG_URL}\n```\n\n| {LONG_WORD} | {LONG_URL} |\n|---|---|\n| {LONG_EMAIL} | {LONG_NUMBER} |",
        actor=moderator,
    )
    assistant.save_button(None, element=element, label=_long("Störungsmeldungsknopf", 120), target="flow",
                          target_flow_id=flow.id, actor=moderator)
    assistant.save_button(None, element=element, label=_long("Herstellerwebseite", 120), target="url", url=LONG_URL, actor=moderator)
    assistant.make_start_element(element, actor=moderator)
    demo = {token: db.session.scalar(sa.select(Code).filter_by(token=token)) for token in ("demo-press", "demo-pin")}
    for token, code in demo.items():
        devices.save_device(
            code.device, template_id=press.id, name=_long(f"Hydraulikpresse{token.replace('-', '')}", 160), customer_id=customer.id,
            serial_number=_long("SN0123456789", 80), location=_long("Produktionshalle", 160),
            description=f"{LONG_WORD}\n{LONG_URL}", actor=moderator,
        )
        codes.update_code(code, label=_long(f"Aufkleberbeschriftung{token}", 120), actor=moderator)
    device = demo["demo-press"].device
    new_code = codes.create_codes(1, device_id=device.id, label=_long("Typenschildaufkleber", 120), actor=moderator)[0]

    # A ticket employees work on, with every kind of long text on it.
    staff_ticket = ticket_service.start_draft(flow, device, actor=moderator)
    _answers(staff_ticket, moderator)
    ticket_service.submit_ticket(staff_ticket, actor=moderator)
    offers.accept_offer(staff_ticket, actor=anna)
    offers.assign_employee(staff_ticket, long_employee, actor=moderator)
    ticket_service.fire_event(staff_ticket, "start", actor=anna)
    ticket_service.post_update(staff_ticket, f"{LONG_URL}\n{LONG_WORD}", Visibility.PUBLIC, actor=anna, files=[_pdf()])
    ticket_service.post_update(staff_ticket, f"{LONG_WORD} {LONG_EMAIL}", Visibility.INTERNAL, actor=anna, files=[_pdf()])
    messenger.post_message(staff_ticket, f"{LONG_URL} {LONG_WORD}", actor=anna)
    messenger.post_files_message(staff_ticket, LONG_WORD, [_pdf(), _png(_long("Bildschirmfoto_", 150) + ".png")], actor=anna)
    link = messenger.send_assistant_link(staff_ticket, element.id, actor=anna)

    # The code user's own tickets: one open with a public update and messages, one done and rated.
    code_user = db.session.scalar(sa.select(CodeUser).filter_by(key=visitor_key))
    visitor = CodeVisitor(code_user, {device.id})
    own = ticket_service.start_draft(flow, device, actor=visitor)
    _answers(own, visitor)
    ticket_service.submit_ticket(own, actor=visitor)
    offers.accept_offer(own, actor=anna)
    ticket_service.post_update(own, f"{LONG_URL} {LONG_WORD}", Visibility.PUBLIC, actor=moderator, files=[_pdf()])
    ticket_service.post_update(own, LONG_WORD, Visibility.PUBLIC, actor=visitor, files=[_pdf()])
    messenger.post_message(own, f"{LONG_URL} {LONG_WORD}", actor=visitor)
    messenger.post_message(own, f"{LONG_WORD}\n{LONG_EMAIL}", actor=anna)
    subscriptions.set_follow_email(own, LONG_EMAIL, actor=visitor)
    receiver = subscriptions.receiver_for(own, visitor)
    rated = ticket_service.start_draft(flow, device, actor=visitor)
    _answers(rated, visitor, files=False)
    ticket_service.submit_ticket(rated, actor=visitor)
    offers.accept_offer(rated, actor=anna)
    ticket_service.fire_event(rated, "finish", actor=anna)
    ticket_service.rate_ticket(rated, 4, f"{LONG_WORD} {LONG_URL}", actor=visitor)
    code_draft = ticket_service.start_draft(flow, device, actor=visitor)
    _answers(code_draft, visitor)

    # A webhook endpoint with a long address and description, and a test event in its delivery log. The address
    # is on loopback (nothing resolves names here), which the setting for closed networks allows while it is saved.
    current_app.config["OUTBOUND_ALLOW_PRIVATE_ADDRESSES"] = True
    try:
        endpoint = webhooks.save_endpoint(
            None, url="http://127.0.0.1:9/" + _long("schnittstelle/warenwirtschaft/", 300),
            description=_long("Warenwirtschaftsanbindung", 250), events=["ticket.created", "update.posted"],
            internal=True, actor=admin,
        )
    finally:
        current_app.config["OUTBOUND_ALLOW_PRIVATE_ADDRESSES"] = False
    webhooks.send_test_event(endpoint, actor=admin)
    # A device import waiting for the administrator's confirmation: long cells, errors on long values.
    long_row = {
        "serial_number": _long("SN0123456789", 80), "name": _long("Importgeraetebezeichnung", 160),
        "template": press.name, "location": _long("Produktionshalle", 160), "customer": customer.name,
        "codes": f"{_long('aufkleber', 64)} {_long('unbekannt', 70)}",
    }
    new_row = {**long_row, "serial_number": _long("NEU0123456789", 80), "template": _long("Unbekanntevorlage", 120)}
    waiting = device_import.Upload(
        _long("Geraeteliste_Werk_Sued_", 120) + ".xlsx", list(long_row), [_long("Zusatzspalte", 80)],
        [(2, long_row), (3, new_row), (4, {**new_row, "template": press.name, "serial_number": "SN-NEU-1"})],
    )
    upload_id = device_import.store_upload(waiting, actor=admin)

    staff_drafts = {}
    for role, email in STAFF.items():
        actor = offers.employee_by_email(email)
        draft = ticket_service.start_draft(flow, device, actor=actor)
        _answers(draft, actor)
        staff_drafts[role] = (draft.id, len(draft.answers))
    return {
        "values": {
            "code_id": new_code.id, "customer_id": customer.id, "device_id": device.id, "element_id": element.id,
            "employee_id": long_employee.id, "flow_id": flow.id, "group_id": notify.id, "step_id": first_step.id,
            "team_id": team.id, "template_id": press.id, "token": "demo-press", "number": staff_ticket.id, "message_id": link.id,
            "position": 0, "endpoint_id": endpoint.id, "upload_id": upload_id, "level_id": level.id,
        },
        "tickets": [staff_ticket.id, own.id, rated.id],  # the first one is filled into the URL map's rules
        "code_draft": (code_draft.id, len(code_draft.answers)),
        "staff_drafts": staff_drafts,
        "elements": [e.id for e in press.elements],
        "device_name": device.name,
        "other_device": demo["demo-pin"].device_id,
        "codes": [new_code.id, demo["demo-press"].id, demo["demo-pin"].id],
        "invitation": staff.invitation_token(invited),
        "reset_link": password_reset.token_for(offers.employee_by_email("anna@example.com")),
        "receiver_link": notification_links.sign_receiver_link(receiver),
        "confirmation_link": urlsplit(receiver_emails.confirmation_url(receiver)).path,
    }


def _rule_paths(app, values, *, code_user_pages, drafts):
    """One path per GET endpoint (the code user's or the staff's), its arguments filled from the planted objects;
    the wizard's steps with the number of the visitor's own draft (`drafts`)."""
    adapter = app.url_map.bind("localhost")
    paths = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or _skipped(rule.endpoint):
            continue
        if rule.endpoint.startswith(CODE_USER_PAGES) != code_user_pages:
            continue
        missing = [name for name in rule.arguments if name not in values]
        assert not missing, f"{rule.rule}: plant a {missing} for it, or name {rule.endpoint} in SKIPPED with the reason"
        filled = {name: values[name] for name in rule.arguments}
        if rule.endpoint in ("public.wizard_step", "tickets.draft_step"):
            filled["number"] = drafts
        paths[rule.endpoint] = adapter.build(rule.endpoint, filled)
    return paths


def _code_user_paths(app, planted):
    """Every page a code user reaches: the device tabs, assistant pages, the new-ticket choice, each wizard step,
    their tickets, the PIN page, an unknown code, the e-mailed ticket link, the page confirming their e-mail address
    (and a forged link to it), the login and invitation pages."""
    number, steps = planted["code_draft"]
    paths = list(_rule_paths(app, planted["values"], code_user_pages=True, drafts=number).values())
    paths += ["/c/demo-press?tab=tickets", "/c/demo-press?tab=history", "/c/demo-pin", "/c/no-such-code"]
    paths += [f"/c/demo-press/a/{element}" for element in planted["elements"][1:]]
    paths += [f"/c/demo-press/t/{number}/step/{position}" for position in range(1, steps)]
    paths += [f"/c/demo-press/t/{number}" for number in planted["tickets"]]
    paths += [f"/r/{planted['receiver_link']}", f"/invite/{planted['invitation']}", planted["confirmation_link"]]
    paths += [f"/password/reset/{planted['reset_link']}"]
    return list(dict.fromkeys(paths))


def _staff_paths(app, planted, role):
    """Every staff page from the URL map, plus the variants: the update tabs and the whole timeline, each ticket,
    the steps of the role's own draft (every step for members: the wizard is the same for every role)."""
    values = planted["values"]
    number, steps = planted["staff_drafts"][role]
    paths = list(_rule_paths(app, values, code_user_pages=False, drafts=number).values())
    first, *others = planted["tickets"]
    paths += [f"/tickets/{first}?updates=internal", f"/tickets/{first}?timeline=all&all_updates=1"]
    paths += [f"/tickets/{number}" for number in others]
    positions = range(1, steps) if role == "member" else [steps - 1]  # the last step: the visibility question
    paths += [f"/tickets/drafts/{number}/step/{position}" for position in positions]
    paths += [f"/tickets/new?device={planted['device_name']}", "/tickets?status=open&sort=priority"]
    paths += [f"/admin/devices/{planted['other_device']}", f"/admin/codes/labels?ids={','.join(map(str, planted['codes']))}"]
    paths += [f"/admin/templates/{values['template_id']}/groups/new?kind=notify"]
    return list(dict.fromkeys(paths))


# Folded parts (the overview's filters, the danger zone) are opened first: what they hide must fit too.
OPEN_AND_MEASURE = """() => {
  document.querySelectorAll('details:not([open])').forEach((details) => { details.open = true; });
  return [document.documentElement.scrollWidth, window.innerWidth];
}"""

WIDEST = """() => {
  // The deepest element or text whose right edge lies furthest right, outside every box that scrolls by itself.
  const clipped = (node) => {
    for (let el = node.parentElement; el && el !== document.body; el = el.parentElement) {
      if (getComputedStyle(el).overflowX !== 'visible') return true;
    }
    return false;
  };
  const describe = (el) => {
    const cls = el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}> "${text}"`;
  };
  let best = null, right = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.currentNode; node; node = walker.nextNode()) {
    let box;
    if (node.nodeType === Node.TEXT_NODE) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      box = range.getBoundingClientRect();
    } else {
      box = node.getBoundingClientRect();
    }
    if (box.width > 0 && box.right >= right && !clipped(node)) {
      right = box.right;
      best = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    }
  }
  return best ? `${describe(best)} ends at ${Math.round(right)} px` : 'nothing found';
}"""


class Visits:
    """Opens pages at 360 px in one browser page per role and writes down every page wider than the screen."""

    def __init__(self, app, base_url):
        self.app, self.base_url = app, base_url
        self.adapter = app.url_map.bind("localhost")
        self.shown = set()  # endpoints some role saw as a page
        self.too_wide = []
        self.missing = []  # pages that should show planted text but do not
        self.count = 0

    def endpoint(self, path):
        """The endpoint that answers `path`."""
        parts = urlsplit(path.removeprefix(self.base_url))
        return self.adapter.match(parts.path, method="GET", query_args=parts.query)[0]

    def visit(self, page, role, paths):
        """Open each path; measure the pages the role is shown (a refusal or the login page is no page of the role)."""
        # The live socket plays no part in the layout: it is answered by nobody (page.route would do the same for
        # plain requests, but it turns the browser's cache off, and every page would fetch its scripts again).
        page.context.route_web_socket("**/socket.io/**", lambda socket: None)
        checked = set()
        for path in paths:
            answer = page.goto(self.base_url + path)
            if "text/html" not in answer.headers.get("content-type", ""):
                continue
            wide, screen = page.evaluate(OPEN_AND_MEASURE)  # refusals too: an error page must fit as well
            if wide > screen:
                self.too_wide.append(f"{role}: {path} ({answer.status}) is {wide} px wide; widest: {page.evaluate(WIDEST)}")
            if not answer.ok or urlsplit(page.url).path == "/login" and not path.startswith("/login"):
                continue
            endpoint = self.endpoint(page.url)
            self.count += 1
            self.shown.update({self.endpoint(path), endpoint})
            first_visit = endpoint not in checked
            checked.add(endpoint)
            if endpoint in PLANTED_ON and first_visit and PLANTED_ON[endpoint] not in page.content():
                self.missing.append(f"{role}: {path}")
            if endpoint in AXE_PAGES.get(role, ()) and first_visit:
                try:
                    assert_accessible(page)
                except AssertionError as error:
                    raise AssertionError(f"{role}: {path}: {error}") from None


def test_every_page_of_every_role_fits_a_360_px_phone(live_server, new_page):
    app, base = live_server.app, live_server.url
    code_page = new_page(SMALL_PHONE)
    code_page.goto(f"{base}/c/demo-press")
    cookie = next(c["value"] for c in code_page.context.cookies() if c["name"] == app.config["CODE_USER_COOKIE"])
    with app.app_context():
        planted = _plant(read_code_user_key(cookie))
        code_paths = _code_user_paths(app, planted)
        staff_paths = {role: _staff_paths(app, planted, role) for role in STAFF}
        db.session.remove()
    visits = Visits(app, base)
    visits.visit(code_page, "code user", code_paths)
    for role, email in STAFF.items():
        page = new_page(SMALL_PHONE)
        log_in(page, base, email)
        visits.visit(page, role, staff_paths[role])
    never = sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not _skipped(rule.endpoint) and rule.endpoint not in visits.shown
    )
    assert not never, f"No role was shown these pages: visit them or name them in SKIPPED with the reason: {never}"
    assert not visits.missing, f"These pages do not show the planted text: {visits.missing}"
    assert not visits.too_wide, "Pages wider than a 360 px phone:\n" + "\n".join(visits.too_wide)
    assert visits.count > 100
