"""Program settings (admin)."""

from __future__ import annotations

from flask.views import MethodView

from engage import state
from engage.api.auth import requires
from engage.api.parser import Blueprint
from engage.api.program_schemas import ProgramSchema
from engage.services import program_settings

blp = Blueprint("program", __name__, url_prefix="/api/v1/program", description="Program settings")


@blp.route("")
class ProgramResource(MethodView):
    @requires("admin")
    @blp.response(200, ProgramSchema)
    def get(self):
        """The program's settings, with donation totals."""
        return program_settings.read(state.session())

    @requires("admin")
    @blp.arguments(ProgramSchema())
    @blp.response(200, ProgramSchema)
    def patch(self, data):
        """Change any program setting; unspecified settings keep their value."""
        return program_settings.update(state.session(), data, state.now())
