"""The insights dashboard: figures, charts' data, the nav entry, CSV downloads and who may see it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from engage import jobs
from tests.support.console import signed_in


def test_dashboard_shows_the_figures_and_each_table_downloads_as_csv(app, api, people, clock):
    clock.set(datetime(2026, 3, 2, 10, tzinfo=timezone.utc))
    member = api.enrol("dash-1")
    assert api.purchase(member["id"], "12.50").status_code == 201
    clock.set(datetime(2026, 3, 3, 10, tzinfo=timezone.utc))
    jobs.run(app, jobs.JOBS["insights"], clock().date(), clock())
    console = signed_in(app, people["marketer"])
    page = console.get("/console/insights?from=2026-03-02&to=2026-03-02")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/console/insights"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "Repeat-purchase rate" in html and "Download CSV" in html and 'id="insights-data"' in html
    daily = console.get("/console/insights/daily.csv?from=2026-03-02&to=2026-03-02")
    assert daily.mimetype == "text/csv" and "attachment" in daily.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(daily.get_data(as_text=True))))
    assert rows[0][:5] == ["Date", "New members", "Members", "Active (90 days)", "Points issued"]
    assert len(rows) == 2
    assert rows[1][:5] == ["2026-03-02", "1", "1", "1", "112"]  # 100 signup + 12 for EUR 12.50
    revenue = list(csv.reader(io.StringIO(console.get(
        "/console/insights/revenue.csv?from=2026-03-02&to=2026-03-02").get_data(as_text=True))))
    assert revenue[1] == ["all members", "EUR", "1", "12.50"]
    assert console.get("/console/insights/nothing.csv?from=2026-03-02&to=2026-03-02").status_code == 404


def test_a_bad_range_is_explained_on_the_page(app, people, clock):
    clock.set(datetime(2026, 3, 3, 10, tzinfo=timezone.utc))
    console = signed_in(app, people["marketer"])
    page = console.get("/console/insights?from=2026-03-02&to=2026-03-01")
    assert page.status_code == 422 and "`to` is before `from`" in page.get_data(as_text=True)
    assert console.get("/console/insights?from=yesterday&to=2026-03-01").status_code == 422


def test_viewers_do_not_see_the_dashboard(app, people):
    console = signed_in(app, people["viewer"])
    assert console.get("/console/insights").status_code == 403
    assert 'href="/console/insights"' not in console.get("/console/").get_data(as_text=True)
