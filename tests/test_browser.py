"""The served application in Debian's Chromium: what a person sees, and axe-core's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.a11y import assert_accessible

pytestmark = pytest.mark.browser

NARROWEST_PHONE = {"width": 320, "height": 640}


def test_the_landing_page_renders_without_errors(page, live_server: str, artefacts: Path):
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"{request.url}: {request.failure}"))

    response = page.goto(live_server)
    assert response is not None and response.ok
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artefacts / "landing.png", full_page=True)

    assert page.get_by_role("heading", level=1).inner_text() == "How ready is your company for the twin transition?"
    assert page.get_by_role("heading", name="Small twin-transition check").is_visible()
    # htmx loaded and ran: the Content-Security-Policy let our own script through.
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version") == "2.0.11"
    # A refused script or style would be reported here, as would any other console error.
    assert problems == []


def test_the_landing_page_fits_the_narrowest_phone(page, live_server: str, artefacts: Path):
    page.set_viewport_size(NARROWEST_PHONE)
    page.goto(live_server)
    page.screenshot(path=artefacts / "landing-320.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 320px screen"


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page, live_server: str):
    page.goto(live_server)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("viewport", [None, NARROWEST_PHONE], ids=["desktop", "320px"])
def test_the_landing_page_has_no_accessibility_violations(a11y_page, live_server: str, viewport):
    if viewport:
        a11y_page.set_viewport_size(viewport)
    a11y_page.goto(live_server)
    assert_accessible(a11y_page)


def test_the_accessibility_check_reports_violations(a11y_page):
    a11y_page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="data:,"></main></html>')
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(a11y_page)
