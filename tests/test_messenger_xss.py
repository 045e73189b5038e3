"""Messages are inert: script, event-handler, javascript: and data: payloads (OWASP filter-evasion list)."""
import re
from html.parser import HTMLParser

import pytest
from flask import render_template

from app.services import messenger
from tests.messenger_helpers import Scene

PAYLOADS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<a onmouseover=alert(document.cookie)>xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
    "<SCRIPT SRC=//xss.example/.j>",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert('XSS')\"></iframe>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4=\">klick</a>",
    "[klick](javascript:alert('XSS'))",
    "[klick](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[klick](JaVaScRiPt:alert(1))",
    "[klick](&#106;avascript:alert(1))",
    "![bild](javascript:alert(1))",
    "<div style=\"background-image: url(javascript:alert('XSS'))\">x</div>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"https://xss.example/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv\" AllowScriptAccess=\"always\"></EMBED>",
    "<a href=\"jAvAsCrIpT&colon;alert(1)\">x</a>",
    "**fett** <b onclick=alert(1)>b</b> _kursiv_",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "<<img src=x>script>alert(1)<</img>/script>",
    "\"><img src=x onerror=alert(1)>",
]

ALLOWED_TAGS = {"li", "span", "time", "p", "br", "strong", "em", "b", "i", "a"}


class TagCollector(HTMLParser):
    """Every real tag and attribute of a rendered message."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(html, payload):
    """No script elements, no event handlers, no javascript:/data: URLs, nothing outside the subset."""
    assert not re.search(r"<\s*script", html, re.IGNORECASE), (payload, html)
    collector = TagCollector()
    collector.feed(html)
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, (payload, html)
        for name, value in attrs.items():
            assert not name.lower().startswith("on"), (payload, html)
            if name in ("href", "src"):
                scheme = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
                assert not scheme.startswith(("javascript:", "data:", "vbscript:")), (payload, html)
                assert scheme.startswith(("http://", "https://", "mailto:", "tel:", "/", "#")) or ":" not in scheme


@pytest.fixture(scope="module")
def payloads():
    """The list is long enough to be meaningful."""
    assert len(PAYLOADS) >= 30
    return PAYLOADS


def test_payloads_come_out_inert(app, payloads):
    """Every payload goes through post_message and the rendered message holds nothing executable."""
    scene = Scene(app)
    with app.test_request_context("/"):
        for payload in payloads:
            message = messenger.post_message(scene.ticket, payload, actor=scene.moderator)
            html = render_template("messenger/_message.html", message=message, me="")
            assert_inert(html, payload)


def test_markdown_subset_survives(app):
    """Bold, italic, links, line breaks and auto-linked addresses still work."""
    scene = Scene(app)
    message = messenger.post_message(
        scene.ticket, "**fett** und _kursiv_\nzweite Zeile https://example.com und hilfe@example.com", actor=scene.moderator
    )
    with app.test_request_context("/"):
        html = render_template("messenger/_message.html", message=message, me="")
    assert "<strong>fett</strong>" in html and "<em>kursiv</em>" in html and "<br" in html
    assert 'href="https://example.com"' in html and 'href="mailto:hilfe@example.com"' in html
