"""Pages arrive compressed and static files under content-hashed URLs are cached for a year (app/static_files.py)."""
import gzip
import hashlib
import re
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from flask import url_for

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


def _static_urls(html):
    """The static URLs a page links to."""
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_pages_are_compressed_as_the_browser_accepts(app, client):
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    squeezed = client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert squeezed.headers["Content-Encoding"] in ("br", "zstd")
    if squeezed.headers["Content-Encoding"] == "br":
        assert brotli.decompress(squeezed.data) == plain.data
    assert len(squeezed.data) < len(plain.data) / 2


def test_static_files_are_linked_by_content_hash_and_cached_for_a_year(app, client):
    html = client.get("/login").get_data(as_text=True)
    urls = _static_urls(html)
    assert any("app.css" in url for url in urls) and all("?v=" in url for url in urls)
    for url in urls:
        path, version = url.split("?v=")
        assert version == hashlib.sha256((STATIC / path.removeprefix("/static/")).read_bytes()).hexdigest()[:12]
        with client.get(url, headers={"Accept-Encoding": "gzip"}) as answer:
            assert answer.status_code == 200
            assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_static_file_without_its_current_hash_is_revalidated(app, client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        with client.get(url) as answer:
            assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-cache"


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "note.css").write_text("body { color: black; }")
    with app.test_request_context():
        before = url_for("static", filename="note.css")
        (tmp_path / "note.css").write_text("body { color: navy; }")
        after = url_for("static", filename="note.css")
        assert before != after and before.startswith("/static/note.css?v=")
        assert url_for("static", filename="missing.css") == "/static/missing.css"


def test_static_text_files_are_compressed_too(app, client):
    css = rcssmin.cssmin((STATIC / "css" / "app.css").read_text())
    with client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"}) as answer:
        assert answer.headers["Content-Encoding"] == "gzip" and gzip.decompress(answer.data).decode() == css
    with client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"}) as picture:
        assert "Content-Encoding" not in picture.headers  # already compressed formats pass as they are


def test_static_files_vary_only_on_the_encoding_whoever_asks(demo, client, login):
    """A cached file must not depend on the session cookie or on htmx: a repeat visit then costs no request."""
    from app.services.offers import employee_by_email

    assert client.get("/c/demo-press").status_code == 200  # a code user's cookie and a session
    login(employee_by_email("anna@example.com"))
    html = client.get("/tickets").get_data(as_text=True)
    urls = _static_urls(html)
    assert len(urls) >= 5
    for url in urls:
        with client.get(url, headers={"Accept-Encoding": "gzip", "HX-Request": "true"}) as answer:
            assert answer.status_code == 200
            assert answer.headers["Vary"] == "Accept-Encoding", url
            assert "Set-Cookie" not in answer.headers
    page = client.get("/tickets")
    assert {"Cookie", "HX-Request"} <= set(page.headers["Vary"].split(", "))


def test_our_scripts_and_styles_are_sent_minified_and_library_files_as_shipped(app, client):
    for name, minify in (("js/messenger.js", rjsmin.jsmin), ("css/app.css", rcssmin.cssmin)):
        source = (STATIC / name).read_text()
        with client.get(f"/static/{name}") as answer:
            assert answer.status_code == 200 and answer.get_data(as_text=True) == minify(source)
            assert len(answer.data) < 0.85 * len(source.encode())
            assert "/*" not in answer.get_data(as_text=True)[:200]  # the leading comment is gone
            etag = answer.headers["ETag"]
        with client.get(f"/static/{name}", headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304
        with client.get(f"/static/{name}", headers={"Range": "bytes=0-9"}) as part:
            assert part.status_code == 206 and part.data == minify(source).encode()[:10]
    shipped = next((STATIC / "js").glob("htmx-*.min.js"))
    with client.get(f"/static/js/{shipped.name}") as answer:
        assert answer.data == shipped.read_bytes()
    app.config["MINIFY_STATIC"] = False
    with client.get("/static/js/messenger.js") as answer:
        assert answer.data == (STATIC / "js" / "messenger.js").read_bytes()


def test_static_files_carry_no_document_headers(app, client):
    with client.get("/static/css/app.css") as answer:
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in answer.headers and "X-Frame-Options" not in answer.headers
    assert "Content-Security-Policy" in client.get("/login").headers
    assert "Content-Security-Policy" in client.get("/service-worker.js").headers
