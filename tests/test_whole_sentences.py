"""No message glues a translated word (a field name, a status, a label) into a sentence.

German puts articles, case and word order around a noun ("Bitte geben Sie den Namen ein", "Die Frage darf
höchstens …"), so a sentence with a `%(field)s` slot filled by another translation reads wrong, and a status
name glued in ("while the ticket is IN_PROGRESS") is not German at all. Each such message is a whole sentence per
field or value (app/services/input_checks.py MISSING/TOO_LONG/CONTROL_CHARACTERS, timeline.OFFER_SENTENCES,
tickets.NOT_POSSIBLE_IN_STATUS, notification_wording.STATUS_NOW).

Allowed: a "Label: %(value)s" line (a heading before a colon, not a sentence), and placeholders for user content,
names, numbers, dates and addresses.
"""
import ast
import re
from pathlib import Path

import pytest

from app.services import input_checks
from app.services.errors import ValidationError
from tests.test_translations import extract

ROOT = Path(__file__).resolve().parent.parent
GETTEXT_FUNCTIONS = {
    "_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext", "lazy_pgettext", "npgettext",
}
# Placeholder names that only make sense when another translated word fills them.
GLUE_PLACEHOLDERS = {
    "field", "label", "what", "thing", "noun", "item", "kind", "type", "status", "state", "visibility", "priority",
    "role", "event", "action",
}
# Label tables of app/labels.py (and their template names): their values are translated words.
LABEL_TABLE = re.compile(r"^(STATUS|VISIBILITY|PRIORITY|ROLE|OFFER_STATE|EVENT|STEP_TYPE|MESSAGE_KIND|"
                         r"NOTIFICATION_EVENT|AUDIT_KIND)(_LABELS)?$")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def glued_messages(messages):
    """The msgids among `messages` that are made to be glued: a glue placeholder, a lowercase fragment such as
    "the name", or nothing but placeholders and punctuation ("%(name)s: %(state)s")."""
    problems = []
    for message in messages:
        text = message if isinstance(message, str) else message[0]
        names = set(PLACEHOLDER.findall(text))
        if names & GLUE_PLACEHOLDERS:
            problems.append(f"{text!r}: placeholder for a translated word ({', '.join(sorted(names & GLUE_PLACEHOLDERS))})")
        elif re.fullmatch(r"(the|a|an) [a-z][a-z -]*", text):
            problems.append(f"{text!r}: a fragment to glue into another sentence")
        elif names and not re.search(r"[^\W\d_]", PLACEHOLDER.sub("", text)):
            problems.append(f"{text!r}: only placeholders and glue")
    return problems


def _is_gettext_call(node):
    """Whether `node` calls one of GETTEXT_FUNCTIONS (by name or as an attribute such as flask_babel.gettext)."""
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
    return name in GETTEXT_FUNCTIONS


def _translated_word(node):
    """A description of the translated word inside `node` (a gettext call, a label table), or None."""
    for inner in ast.walk(node):
        if _is_gettext_call(inner):
            return "a gettext call"
        if isinstance(inner, ast.Name) and LABEL_TABLE.match(inner.id):
            return f"the label table {inner.id}"
        if isinstance(inner, ast.Attribute) and LABEL_TABLE.match(inner.attr):
            return f"the label table {inner.attr}"
    return None


def _literal(node):
    """The message text of a gettext call (its first string argument), or ''."""
    for argument in node.args:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value
    return ""


def glued_call_sites(source, path="<source>"):
    """Call sites in Python `source` that fill a sentence with a translated word: a gettext call whose variables
    hold a translation or label, a `label=`/`field=`… argument given a translation, `_() + …` and f-strings that
    join a translation with other text."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if _is_gettext_call(node):
            text = _literal(node)
            heading = re.match(r"^[^%]*:\s*%\(", text)  # "Status: %(before)s → %(after)s" is a label line
            for keyword in node.keywords:
                word = _translated_word(keyword.value)
                if word and not heading:
                    problems.append(f"{path}:{node.lineno}: {text!r} gets {word} as %({keyword.arg})s")
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in GLUE_PLACEHOLDERS and _is_gettext_call(keyword.value):
                    problems.append(f"{path}:{node.lineno}: a translation passed as {keyword.arg}= to be glued in")
        joined = isinstance(node, ast.BinOp) and (
            isinstance(node.op, ast.Add) and (_is_gettext_call(node.left) or _is_gettext_call(node.right))
            or isinstance(node.op, ast.Mod) and _is_gettext_call(node.right)
        )
        if joined:
            problems.append(f"{path}:{node.lineno}: a translation joined with other text by {type(node.op).__name__}")
        if isinstance(node, ast.JoinedStr):
            parts = [value.value for value in node.values if isinstance(value, ast.FormattedValue)]
            text = "".join(value.value for value in node.values if isinstance(value, ast.Constant))
            if re.search(r"[^\W\d_]", text) and any(_is_gettext_call(part) for part in parts):
                problems.append(f"{path}:{node.lineno}: an f-string glues a translation into text")
    return problems


CALL_ARGUMENTS = r"\b(_|gettext|pgettext|ngettext)\((?:[^()]|\([^()]*\))*?="  # a call up to a keyword's "="
TEMPLATE_GLUE = [
    (re.compile(CALL_ARGUMENTS + r"\s*(_|gettext|pgettext|ngettext)\("), "a translation as a placeholder value"),
    (re.compile(CALL_ARGUMENTS + r"\s*[A-Z_]+_LABELS\["), "a label as a placeholder value"),
    (re.compile(r"\b(_|gettext|pgettext)\([^)]*\)\s*~\s*['\"][^'\"]*[A-Za-z]"), "a translation joined with words by ~"),
]


def glued_template_calls(source, path="<template>"):
    """Template lines that fill or join a translated sentence with another translation or label."""
    problems = []
    for number, line in enumerate(source.splitlines(), start=1):
        for pattern, what in TEMPLATE_GLUE:
            if pattern.search(line):
                problems.append(f"{path}:{number}: {what}")
    return problems


def test_no_extracted_message_is_made_to_be_glued(tmp_path):
    template = extract(tmp_path / "messages.pot")
    problems = glued_messages(message.id for message in template if message.id)
    assert not problems, "\n".join(problems)


def test_no_python_call_site_glues_a_translated_word_into_a_sentence():
    problems = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        problems += glued_call_sites(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    assert not problems, "\n".join(problems)


def test_no_template_glues_a_translated_word_into_a_sentence():
    problems = []
    for path in sorted((ROOT / "app" / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            problems += glued_template_calls(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source", [
    'raise ValidationError(_("Please fill in %(field)s.", field=_("the name")))',
    'message = _l("%(field)s may have at most %(count)d characters.", field=_l("Name"), count=3)',
    'text = _("This is not possible while the ticket is %(now)s.", now=labels.STATUS[status])',
    'text = _("%(number)s is now %(now)s", number=n, now=str(STATUS_LABELS[status]))',
    'check(value, "name", label=_("the name"))',
    'text = _("Ticket") + " " + number',
    "text = f\"{_('Offer')} accepted\"",
])
def test_the_call_site_check_catches_glue(source):
    assert glued_call_sites(source)


@pytest.mark.parametrize("source", [
    '_("Status: %(before)s → %(after)s", before=labels.STATUS[a], after=labels.STATUS[b])',
    '_("Please answer “%(question)s” first.", question=answer.question)',
    '_("%(name)s was assigned.", name=employee.name)',
])
def test_the_call_site_check_lets_whole_sentences_pass(source):
    assert not glued_call_sites(source)


def test_the_message_check_catches_glue():
    assert len(glued_messages([
        "Please fill in %(field)s.", "the name", "%(name)s: %(state)s", "%(a)s – %(b)s", "Ticket created (%(visibility)s).",
    ])) == 5
    assert not glued_messages(["Please enter the name.", "Page %(n)s of %(total)s", "Hello %(name)s,"])


def test_the_template_check_catches_glue():
    assert glued_template_calls("""{{ _("Filled %(what)s", what=_("the name")) }}""")
    assert glued_template_calls("""{{ _("State %(s)s", s=STATUS_LABELS[ticket.status]) }}""")
    assert glued_template_calls("""{{ _("Ticket") ~ " number" }}""")
    assert not glued_template_calls("""{{ _("Page %(n)s of %(total)s", n=page.number|decimal, total=page.last) }}""")


@pytest.mark.parametrize("field", sorted(set(input_checks.MISSING) | set(input_checks.TOO_LONG)))
def test_each_field_has_its_own_sentences_in_german(app, field):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("de"):
        missing = str(input_checks.missing_message(field))
        too_long = str(input_checks.too_long_message(field, 120))
    assert missing != input_checks.MISSING.get(field, input_checks.MISSING_HERE)  # translated
    assert "120" in too_long and "%(" not in too_long and "höchstens" in too_long


def test_services_refuse_with_the_fields_own_sentence(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("de"):
        with pytest.raises(ValidationError) as empty:
            input_checks.text("  ", "question", max_length=255, required=True)
        with pytest.raises(ValidationError) as long_title:
            input_checks.text("x" * 121, "title", max_length=120)
        with pytest.raises(ValidationError) as broken_name:
            input_checks.text("Eve\nEvil", "name", max_length=120, one_line=True)
    assert (empty.value.message, empty.value.field) == ("Bitte geben Sie die Frage ein.", "question")
    assert long_title.value.message == "Der Titel darf höchstens 120 Zeichen haben."
    assert broken_name.value.message == "Bitte entfernen Sie Zeilenumbrüche und unsichtbare Steuerzeichen aus dem Namen."


def test_a_status_change_reads_as_one_german_sentence(app):
    from flask_babel import force_locale

    from app.enums import NotificationEvent
    from app.services.notification_wording import _headline
    from app.services.tickets import NOT_POSSIBLE_IN_STATUS
    from app.workflow import TicketStatus

    with app.test_request_context(), force_locale("de"):
        headline = _headline(NotificationEvent.STATUS_CHANGED, {"after": "IN_PROGRESS"}, "T-00042", "Anna")
        refusal = str(NOT_POSSIBLE_IN_STATUS[TicketStatus.CLOSED])
    assert headline == "T-00042 hat jetzt den Status IN ARBEIT"
    assert refusal == "Das ist im Status „GESCHLOSSEN“ nicht möglich."


def test_a_form_names_its_own_field_and_limit_in_the_readers_words(client, login):
    """The administration's template form: an empty name and a too long description, answered in German and in
    English with the field's own sentence and the limit in the reader's number format."""
    from app.enums import Role
    from app.extensions import db
    from tests.factories import make_employee

    admin = make_employee(role=Role.ADMIN)
    login(admin)

    def refusal(language):
        admin.language = language
        db.session.commit()
        response = client.post("/admin/templates/new", data={"name": "", "description": "x" * 5001})
        assert response.status_code == 422
        return response.get_data(as_text=True)

    german = refusal("de")
    assert "Bitte geben Sie den Namen ein." in german
    assert "Die Beschreibung darf höchstens 5.000 Zeichen haben." in german
    english = refusal("en")
    assert "Please enter the name." in english
    assert "The description may have at most 5,000 characters." in english
