"""Browser-test helpers: the app served over HTTP in a thread, axe-core checks, screenshots."""

from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.serving import make_server

VENDOR = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WIDTHS = (375, 1280)
SERIOUS = ("serious", "critical")


class Server:
    """A real HTTP server on a free port, serving `app` from a thread until stopped."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="console-test-server", daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(VENDOR))
    return page.evaluate("""async (impacts) => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => impacts.includes(v.impact))
            .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}));
    }""", list(SERIOUS))


def check_page(page, name: str) -> None:
    """At each width: no serious or critical axe violation, nothing wider than the screen, and a
    screenshot written to test-artifacts/console/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert axe_violations(page) == [], f"{name} at {width}px"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
