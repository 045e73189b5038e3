"""The API reference at /api/v1/docs renders in Chromium from the vendored Swagger UI under the app's strict CSP:
no policy violation, no console error, every operation listed, nothing wider than a 360 px phone. And an employee
makes a personal token on the account page, sees it once, uses it and revokes it."""
from tests.browser.conftest import assert_accessible, log_in

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


def test_employee_makes_a_token_sees_it_once_uses_it_and_revokes_it(live_server, new_page):
    page = new_page(SMALL_PHONE)
    log_in(page, live_server.url, "anna@example.com")
    page.goto(f"{live_server.url}/account")
    page.get_by_test_id("api-token-name").fill("Planungstool")
    page.locator('[data-testid="api-token-scope"][value="write"]').check()
    assert page.locator('[data-testid="api-token-scope"][value="admin"]').count() == 0  # Anna is a member
    page.get_by_test_id("api-token-create").click()
    secret = page.get_by_test_id("api-token-secret").inner_text().strip()
    assert secret.startswith("tw_")
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert_accessible(page)

    # The browser's own request context sends Anna's session cookie too: only the token signs the request in.
    answer = page.request.get(f"{live_server.url}/api/v1/tickets", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200
    assert page.request.get(f"{live_server.url}/api/v1/tickets").status == 401
    page.goto(f"{live_server.url}/account")
    assert page.get_by_test_id("api-token-secret").count() == 0  # shown once
    assert page.get_by_test_id("api-token-last-used").count() == 1
    page.get_by_test_id("api-token-revoke").click()
    page.get_by_test_id("api-token-revoked").wait_for()
    refused = page.request.get(f"{live_server.url}/api/v1/tickets", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401 and refused.headers["content-type"] == "application/problem+json"
