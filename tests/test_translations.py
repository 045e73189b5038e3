"""The German catalog covers every string in the code and templates, and the German UI uses it."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
GERMAN_PO = TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po"
GERMAN_MO = GERMAN_PO.with_suffix(".mo")


# Babel's default keywords already cover _, gettext, ngettext and pgettext (context first); the lazy variants
# flask_babel offers are added here. `-k lazy_pgettext:1c,2` keeps the context of a lazy pgettext.
KEYWORDS = ("_l", "lazy_gettext", "lazy_ngettext:1,2", "pgettext:1c,2", "lazy_pgettext:1c,2", "npgettext:1c,2,3")


def extract(target, keywords=KEYWORDS):
    """Run the project's extraction into `target` and return the template catalog."""
    keywords = [argument for keyword in keywords for argument in ("-k", keyword)]
    command = [
        sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
        *keywords, "-o", str(target), ".",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"extraction failed:\n{result.stderr}"
    with open(target, "rb") as handle:
        return read_po(handle)


def read_german():
    """The German catalog as committed."""
    with open(GERMAN_PO, "rb") as handle:
        return read_po(handle, locale="de")


def translated(message):
    """True when every form of the message has German text and it is not marked fuzzy."""
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return bool(strings) and all(s and s.strip() for s in strings)


def ensure_compiled():
    """Compile the German catalog when the .mo (build output) is missing or older than the .po."""
    if GERMAN_MO.exists() and GERMAN_MO.stat().st_mtime >= GERMAN_PO.stat().st_mtime:
        return
    catalog = read_german()
    handle, temporary = tempfile.mkstemp(dir=GERMAN_MO.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalog, use_fuzzy=True)
        os.replace(temporary, GERMAN_MO)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def untranslated(template, german):
    """The messages of `template` without German text, looked up with their context (msgctxt)."""
    missing = []
    for message in template:
        if not message.id:
            continue
        if not translated(german.get(message.id, context=message.context)):
            where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
            context = f" [{message.context}]" if message.context else ""
            missing.append(f"{message.id!r}{context} ({where})")
    return missing


def test_every_extracted_string_has_a_german_translation(tmp_path):
    template = extract(tmp_path / "messages.pot")
    german = read_german()
    missing = untranslated(template, german)
    assert len(template) > 0
    assert not missing, f"{len(missing)} string(s) without German translation:\n" + "\n".join(missing)


def test_german_catalog_keeps_placeholders():
    problems = [
        f"{message.id!r}: {error}" for message, errors in read_german().check() for error in errors
    ]
    assert not problems, "\n".join(problems)


def test_login_page_speaks_german(client):
    ensure_compiled()
    response = client.get("/login", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Anmelden" in page
    assert "Log in" not in page


@pytest.mark.parametrize("keywords", [KEYWORDS, ()], ids=["with -k", "babel.cfg alone"])
def test_extraction_keeps_the_context_of_words_with_two_meanings(tmp_path, keywords):
    template = extract(tmp_path / "messages.pot", keywords)
    for context, word in [
        ("ticket status", "Assigned"), ("offer state", "Assigned"), ("step type", "Number"),
        ("ticket number", "Number"), ("ticket action", "Close"), ("visibility", "Public"), ("updates tab", "Public"),
    ]:
        assert template.get(word, context=context) is not None, f"{word!r} in context {context!r} not extracted"


def test_completeness_check_looks_each_message_up_with_its_context():
    """A German text for the word without context does not count for the word in a context, and vice versa."""
    from babel.messages.catalog import Catalog

    template = Catalog()
    template.add("Assigned", context="offer state", locations=[("app/labels.py", 1)])
    template.add("Assigned", locations=[("app/labels.py", 2)])
    german = Catalog(locale="de")
    german.add("Assigned", "ZUGEWIESEN")
    assert untranslated(template, german) == ["'Assigned' [offer state] (app/labels.py:1)"]
    german.add("Assigned", "Zugewiesen", context="offer state")
    assert untranslated(template, german) == []
