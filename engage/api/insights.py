"""Program figures for a date range (marketers): members, retention, points, advocacy, messages
and revenue, read from the daily rollups."""

from __future__ import annotations

from flask.views import MethodView

from engage import state
from engage.api.auth import requires
from engage.api.insight_schemas import InsightQuery, InsightsSchema
from engage.api.parser import Blueprint
from engage.services import insights

blp = Blueprint("insights", __name__, url_prefix="/api/v1/insights", description="Program figures")


@blp.route("")
class InsightsResource(MethodView):
    @requires("marketer")
    @blp.arguments(InsightQuery, location="query")
    @blp.response(200, InsightsSchema)
    @blp.alt_response(422, description="a missing or malformed date, `to` before `from` or after today, "
                                       "or a range over a year")
    def get(self, query):
        """Every figure for the days from `from` to `to`, with the period just before for comparison."""
        return insights.read(state.session(), query["from_"], query["to"], state.now())
