"""The API reference at /api/v1/docs renders in Chromium from the vendored Swagger UI under the app's strict CSP:
no policy violation, no console error, every operation listed, nothing wider than a 360 px phone."""
SMALL_PHONE = {"width": 360, "height": 740}


def test_api_docs_render_under_the_strict_csp(live_server, new_page):
    page = new_page(SMALL_PHONE)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('CSP ' + e.violatedDirective));"
    )
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert "style-src 'self';" in response.headers["content-security-policy"]
    page.locator('[data-path="/api/v1/tickets/{number}/events"]').first.wait_for()
    assert page.locator(".opblock").count() >= 10
    page.locator('[data-path="/api/v1/tickets/{number}/events"]').first.click()
    page.get_by_text("If-Match").first.wait_for()
    assert problems == []
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
