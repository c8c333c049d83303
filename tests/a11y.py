"""Accessibility checks with axe-core, vendored in tests/vendor (MPL-2.0, see axe.LICENSE)."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    """Run every default axe-core rule on ``page`` and return the violations.

    The page's context needs ``bypass_csp=True``: axe is injected as a script element, which
    the application's Content-Security-Policy would otherwise (rightly) refuse.
    """
    page.add_script_tag(path=str(AXE))
    if not page.evaluate("typeof axe !== 'undefined'"):
        raise RuntimeError("axe-core did not load: is the browser context created with bypass_csp=True?")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]


def describe(violations: list[dict]) -> str:
    """The violations as lines to read: each rule broken, and up to five elements that break it."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} - {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Fails, describing every violation, unless axe-core finds none on ``page``."""
    violations = axe_violations(page)
    assert not violations, "axe-core found accessibility problems:\n" + describe(violations)
