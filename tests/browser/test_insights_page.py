"""The insights dashboard in Chromium: the vendored Chart.js draws every chart, the tables read
as tables, and the page passes axe-core at 375 and 1280 pixels wide."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from playwright.sync_api import expect

from engage import jobs
from tests.support.browser import check_page


def test_the_dashboard_draws_its_charts(site, admin):
    now = datetime.now(timezone.utc)
    day, _ = jobs.resolve_as_of(site.app, "insights", now.isoformat())
    jobs.run(site.app, jobs.JOBS["insights"], day, now)
    admin.goto(site.url + "/console/")
    admin.get_by_role("link", name="Insights").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Insights")
    admin.get_by_label("From").fill(day.isoformat())
    admin.get_by_label("To").fill(day.isoformat())
    admin.get_by_role("button", name="Show").click()
    expect(admin.get_by_role("row", name=re.compile(r"^New members 1 "))).to_be_visible()  # the summary
    for chart in ("chart-members", "chart-points", "chart-referrals", "chart-ratings"):
        admin.wait_for_function(f"() => window.Chart && Chart.getChart('{chart}') !== undefined")
    drawn = admin.evaluate("() => Chart.getChart('chart-points').data.datasets[0].data")
    assert drawn == [360]  # the site's member: 100 for signing up, 260 for EUR 260.00
    check_page(admin, "insights")
