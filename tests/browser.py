"""Shared helpers of the browser tests: Debian's Chromium driven by Playwright, axe-core checks
and screenshots kept as test artefacts (``test-artefacts/screenshots/<backend>/``).

The fixtures (``browser``, ``live_server``, ``browser_page``) live in ``conftest.py``.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
ARTEFACTS = ROOT / "test-artefacts"
SCREENSHOTS = ARTEFACTS / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """The serious and critical axe-core violations of the page as it is now."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def axe_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']} → {targets}")
    return "\n".join(lines)


def screenshot(page, backend: str, name: str) -> Path:
    """Save a full-page screenshot under ``test-artefacts/screenshots/<backend>/<name>.png``."""
    folder = SCREENSHOTS / backend
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
