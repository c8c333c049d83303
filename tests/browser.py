"""Helpers of the browser tests: an SME's way through the pages (``Journey``), what a page
shows, and signing in to the workspace, in Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.a11y import assert_accessible
from tests.workspace import PASSWORD

NARROWEST_PHONE = {"width": 320, "height": 640}
SENTENCE = "Finding staff who know CAD & CNC <b>now</b>"
"""What a journey writes in every text box: a sentence with characters to escape."""

SQLITE_ONLY = pytest.mark.parametrize("bundled_server", ["sqlite"], indirect=True)
"""For what does not depend on the database: the SQLite server only."""


def no_horizontal_overflow(page) -> int:
    """By how many pixels the page is wider than the window (0 or less: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def settle(page) -> None:
    """Wait for htmx's requests to end: htmx marks an element with htmx-request while its
    autosave is under way. (A locator, not wait_for_function, whose polling evaluates strings,
    which the Content-Security-Policy forbids.)"""
    page.locator(".htmx-request").first.wait_for(state="detached")


def number_for(box) -> str:
    """30, or the nearest number the box's bounds allow (a data centre's PUE lies between 1
    and 5)."""
    low, high = box.evaluate("box => [box.min, box.max]")
    return f"{min(max(30.0, float(low or '-inf')), float(high or 'inf')):g}"


class Journey:
    """One SME's way through the pages: answers every visible question (the first option of
    each, a number, a sentence), takes a screenshot of every page, and checks each with axe
    when asked."""

    def __init__(self, page, artefacts: Path, name: str, *, keys: bool, axe: bool, narrow: bool = False):
        self.page = page
        self.artefacts = artefacts
        self.name = name
        self.keys = keys
        self.axe = axe
        self.narrow = narrow
        self.shots = 0

    def check(self, label: str) -> None:
        """Screenshot the page as ``label``; check that it fits a phone and passes axe, if asked."""
        self.shots += 1
        self.page.screenshot(path=self.artefacts / f"{self.name}-{self.shots:02d}-{label}.png", full_page=True)
        if self.narrow:
            assert no_horizontal_overflow(self.page) <= 0, f"{label}: wider than a 320px screen"
        if self.axe:
            assert_accessible(self.page)

    def press(self, locator, key: str = "Space") -> None:
        """Space ticks a box or a radio; Enter presses a button, which loads another page."""
        if key == "Enter":
            with self.page.expect_navigation():
                if self.keys:
                    locator.focus()
                    self.page.keyboard.press(key)
                else:
                    locator.click()
        elif self.keys:
            locator.focus()
            self.page.keyboard.press(key)
        else:
            locator.check()

    def settle(self) -> None:
        """Wait for the autosaves under way (with JavaScript)."""
        if self.keys:
            settle(self.page)

    def answer(self, question) -> None:
        """Answer ``question`` (a locator): the first option of each row or list, a number, a sentence."""
        if question.locator("table.matrix").count():
            for row in question.locator("tbody tr").all():
                self.press(row.locator("input").first)
        elif question.locator("input[type=number]").count():
            box = question.locator("input[type=number]")
            number = number_for(box)
            if self.keys:
                box.focus()
                self.page.keyboard.type(number)
            else:
                box.fill(number)
        elif question.locator("textarea, input[type=text]").count():
            question.locator("textarea, input[type=text]").first.fill(SENTENCE)
        else:
            self.press(question.locator("input").first)

    def answer_page(self) -> int:
        """Every question the page shows without an answer, including those an answer
        reveals on it; returns how many questions the page shows."""
        done: set[str] = set()
        while True:
            ids = [i for i in unanswered(self.page) if i not in done]
            if not ids:
                return self.page.locator("form#answers .question").count()
            for qid in ids:
                done.add(qid)
                self.answer(self.page.locator(f"#{qid}"))
            self.settle()

    def section_position(self) -> tuple[int, int]:
        """The section's number and the number of sections, as the progress shows them."""
        text = self.page.locator("#progress-text span").first.inner_text()
        number, count = re.match(r"Section (\d+) of (\d+)", text).groups()
        return int(number), int(count)

    def next_page(self) -> None:
        """Save the page and go on."""
        self.press(self.page.get_by_role("button", name=re.compile("^Save and")), "Enter")


def unanswered(page) -> list[str]:
    """The questions of the page that show no answer."""
    return page.locator("form#answers .question").evaluate_all(
        """els => els.filter(q => !q.querySelector('input:checked')
            && ![...q.querySelectorAll('input[type=number], input[type=text], textarea')].some(i => i.value)).map(q => q.id)"""
    )



def watch_for_errors(page) -> list[str]:
    """The list that the page's console errors and uncaught exceptions are added to from now on
    (failed loads aside: a test that expects a 404 sees it in the console too)."""
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and not message.text.startswith("Failed to load resource") and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def sign_in_as(page, base: str, email: str, path: str = "/workspace") -> None:
    """Open ``path`` of the workspace at ``base``, signed in through the sign-in form as
    ``email`` (with the tests' PASSWORD); returns once the page is there."""
    page.goto(base + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + path)
