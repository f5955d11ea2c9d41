"""/api/docs works offline: Swagger UI comes from the app itself, nothing from a CDN."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import engage

DOCS = "/api/docs"


def test_the_docs_page_loads_everything_from_the_app(app):
    client = app.test_client()
    page = client.get(DOCS)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"https?://", html), "the docs page names another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {Path(asset).name for asset in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                      "swagger-ui-standalone-preset.js"}
    for asset in assets:
        with client.get(urljoin(DOCS, asset)) as response:  # a static file: close what it opened
            assert response.status_code == 200, asset
            assert len(response.get_data()) > 1000, asset
    spec_url = re.search(r'url: "([^"]+)"', html).group(1)
    assert client.get(spec_url).get_json()["openapi"].startswith("3.")


def test_swagger_ui_is_shipped_with_its_licence():
    vendored = Path(engage.__file__).parent / "static" / "vendor" / "swagger-ui"
    assert "Apache License" in (vendored / "LICENSE").read_text()


def test_the_package_data_ships_the_static_files():
    pyproject = (Path(engage.__file__).parents[1] / "pyproject.toml").read_text()
    assert '"static/**/*"' in pyproject
