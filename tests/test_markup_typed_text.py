"""Text is shown as it was typed: raw HTML is escaped, only the Markdown subset becomes markup."""
from html.parser import HTMLParser

import pytest

from app.markup import render_message, render_page

TYPED_TEXT = "Fehlercode <E-17/3> erscheint"
TYPED_TEXT_HTML = "Fehlercode &lt;E-17/3&gt; erscheint"
URL_WITH_AMPERSAND = "https://example.com/a?b=1&c=2"

# (typed, visible): what a person writes and what the page must show them.
TYPED = [
    (TYPED_TEXT, TYPED_TEXT),
    ("Ventil <script> ist defekt, bitte anrufen", "Ventil <script> ist defekt, bitte anrufen"),
    ("5 < 7 > 3", "5 < 7 > 3"),
    ("<b>fett</b> bleibt sichtbar", "<b>fett</b> bleibt sichtbar"),
    ("a <img src=x onerror=alert(1)> b", "a <img src=x onerror=alert(1)> b"),
    ('<a href="javascript:alert(1)">x</a>', '<a href="javascript:alert(1)">x</a>'),
    ("Größe < 10 & Öl > 2", "Größe < 10 & Öl > 2"),
    ("&lt;already escaped&gt;", "&lt;already escaped&gt;"),
    ("&amp; &copy; &#60;", "&amp; &copy; &#60;"),
    ("<!-- comment -->", "<!-- comment -->"),
    ("<div>Block</div>", "<div>Block</div>"),
    ("Übergröße: Öl, Späne und Maß prüfen", "Übergröße: Öl, Späne und Maß prüfen"),
    (f"Siehe {URL_WITH_AMPERSAND} bitte", f"Siehe {URL_WITH_AMPERSAND} bitte"),
    ("**fett** und _kursiv_", "fett und kursiv"),
    ("erste Zeile\nzweite <Zeile>", "erste Zeile\nzweite <Zeile>"),
    ("[Handbuch](https://example.com/h?x=1&y=2) lesen", "Handbuch lesen"),
]

MESSAGE_TAGS = {"p", "br", "strong", "em", "a"}
LINK_ATTRIBUTES = {"href", "title", "rel"}


class RenderedHtml(HTMLParser):
    """The visible text and the real tags of a rendered text."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.tags = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        """Remember every element with its attributes."""
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        """Collect what a reader sees."""
        self.text.append(data)

    def handle_comment(self, data):
        """A comment that survived would hide typed text."""
        self.tags.append(("!--", {}))

    @property
    def visible(self):
        """The text a reader sees, without the whitespace Markdown adds around blocks."""
        return "".join(self.text).strip()


def assert_only_subset(rendered, typed):
    """No element besides p, br, strong, em and links with safe attributes."""
    for tag, attrs in rendered.tags:
        assert tag in MESSAGE_TAGS, (typed, tag)
        allowed = LINK_ATTRIBUTES if tag == "a" else set()
        assert set(attrs) <= allowed, (typed, tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith(("https://", "http://", "mailto:")), (typed, attrs)


@pytest.mark.parametrize("render", [render_message, render_page], ids=["message", "page"])
@pytest.mark.parametrize(("typed", "visible"), TYPED, ids=[typed for typed, _ in TYPED])
def test_typed_text_is_shown_as_typed(render, typed, visible):
    """Messages, updates and assistant pages show the typed characters; only Markdown marks disappear."""
    rendered = RenderedHtml(str(render(typed)))
    assert rendered.visible == visible
    assert_only_subset(rendered, typed)


@pytest.mark.parametrize(
    "typed",
    ["<b>fett</b>", "a <img src=x onerror=alert(1)> b", '<a href="javascript:alert(1)">x</a>', "<script>x</script>"],
)
def test_typed_html_creates_no_elements(typed):
    """Raw HTML only ever becomes text inside a paragraph."""
    for render in (render_message, render_page):
        assert [tag for tag, _ in RenderedHtml(str(render(typed))).tags] == ["p"]


def test_markdown_subset_still_renders():
    """Bold, italic, links, line breaks and auto-linked addresses are markup as before."""
    html = str(render_message("**fett** und _kursiv_\n[Text](https://x.example) info@example.com www.example.com"))
    assert "<strong>fett</strong>" in html and "<em>kursiv</em>" in html and "<br>" in html
    assert 'href="https://x.example"' in html and ">Text</a>" in html
    assert 'href="mailto:info@example.com"' in html and ">info@example.com</a>" in html
    assert 'href="https://www.example.com"' in html and ">www.example.com</a>" in html


def test_bare_url_with_ampersand_links_and_shows_correctly():
    """A query string with `&` keeps its target and its text."""
    rendered = RenderedHtml(str(render_message(f"Siehe {URL_WITH_AMPERSAND}&copy;d=3")))
    links = [attrs for tag, attrs in rendered.tags if tag == "a"]
    assert [link["href"] for link in links] == [f"{URL_WITH_AMPERSAND}&copy;d=3"]
    assert rendered.visible == f"Siehe {URL_WITH_AMPERSAND}&copy;d=3"


def test_bold_url_links_without_the_stars():
    """`**url**` makes a bold link, the stars are not part of the address."""
    html = str(render_message("**https://example.com/x**"))
    assert '<strong><a href="https://example.com/x"' in html


@pytest.mark.parametrize(
    "typed", ["[klick](javascript:alert(1))", "[klick](JaVaScRiPt:alert(1))", "[klick](data:text/html,x)"]
)
def test_dangerous_markdown_links_lose_their_target(typed):
    """javascript: and data: links stay removed; the link text stays."""
    for render in (render_message, render_page):
        rendered = RenderedHtml(str(render(typed)))
        assert rendered.visible == "klick"
        assert all("href" not in attrs for _, attrs in rendered.tags)


@pytest.mark.parametrize(
    "typed",
    ["1. Ventil prüfen\n2. Druck messen", "- Filter\n- Dichtung", "# 3 Stück", "> Zitat", "`x`", "![Bild](x.png)", "Text\n---"],
)
def test_message_keeps_markdown_outside_its_subset_as_typed(typed):
    """Lists, headings, quotes, code and images are not part of messages, so their marks stay visible."""
    rendered = RenderedHtml(str(render_message(typed)))
    assert rendered.visible == typed
    assert_only_subset(rendered, typed)


def test_page_code_shows_typed_html_once_escaped():
    """In assistant pages code spans and blocks show markup characters literally, not double-escaped."""
    html = str(render_page("Taste `<Enter> & fertig`\n\n    <div>a &amp; b</div>"))
    assert "<code>&lt;Enter&gt; &amp; fertig</code>" in html
    assert "<pre><code>&lt;div&gt;a &amp;amp; b&lt;/div&gt;" in html


def test_page_markdown_still_renders():
    """Assistant pages keep lists, headings, quotes and code."""
    html = str(render_page("## Schritte\n\n1. Öffnen\n2. Prüfen\n\n> Hinweis\n\n`code`"))
    for piece in ("<h2>Schritte</h2>", "<ol>", "<li>Öffnen</li>", "<blockquote>", "<code>code</code>"):
        assert piece in html


def _pages(scene, client, login):
    """The employee's ticket page and the code user's ticket page."""
    employee_page = login(scene.member, scene.app.test_client()).get(f"/tickets/{scene.ticket.number}")
    code_page = scene.code_client(client).get(f"/c/{scene.code.token}/t/{scene.ticket.number}")
    assert employee_page.status_code == 200 and code_page.status_code == 200
    return employee_page.get_data(as_text=True), code_page.get_data(as_text=True)


def test_typed_message_shows_as_typed_for_employee_and_code_user(scene, client, login, as_htmx):
    """A message with angle brackets reaches both sides with the brackets visible."""
    code_browser = scene.code_client(scene.app.test_client())
    response = code_browser.post(
        f"/tickets/{scene.ticket.number}/messages", data={"body": TYPED_TEXT, "as": "code"}, headers=as_htmx
    )
    assert response.status_code == 200 and TYPED_TEXT_HTML in response.get_data(as_text=True)
    for page in _pages(scene, client, login):
        assert TYPED_TEXT_HTML in page
        assert "Fehlercode  erscheint" not in page


def test_typed_update_shows_as_typed_for_employee_and_code_user(scene, client, login):
    """A public update with angle brackets reaches both sides with the brackets visible."""
    response = login(scene.member, scene.app.test_client()).post(
        f"/tickets/{scene.ticket.number}/updates", data={"body": TYPED_TEXT, "version": scene.ticket.version}
    )
    assert response.status_code in (200, 303)
    for page in _pages(scene, client, login):
        assert TYPED_TEXT_HTML in page
        assert "Fehlercode  erscheint" not in page
