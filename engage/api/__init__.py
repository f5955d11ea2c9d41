"""The REST API under /api/v1, its OpenAPI document at /api/openapi.json and docs at /api/docs."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from engage.api import fields
from engage.api.errors import error_body, register_error_handlers
from engage.api.schemas import MemberPageSchema


class EngageApi(Api):
    """flask-smorest's Api with our error shape: {"message", "errors"?}."""

    def handle_http_exception(self, error):
        return error_body(error)


def init_app(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Engage API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI is vendored (engage/static/vendor/swagger-ui): the docs work offline and load
        # nothing from elsewhere. Relative to /api/docs, so a prefix (SCRIPT_NAME) keeps working.
        OPENAPI_SWAGGER_UI_URL="../static/vendor/swagger-ui/",
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # else a badge from validator.swagger.io
        API_SPEC_OPTIONS={
            "info": {"description": "Loyalty points, tiers, rewards and lifecycle messaging. "
                                    "Authenticate with `Authorization: Bearer <key>`."},
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = EngageApi(app)
    for name, component in fields.COMPONENTS.items():
        api.spec.components.schema(name, component())
    api.ma_plugin.converter.add_attribute_function(fields.listed_as_reference)
    # Named only inside GET /members' oneOf; flask-smorest registers just the schemas it serialises.
    api.spec.components.schema("MemberPage", schema=MemberPageSchema)
    from engage.api import (
        catalog,
        challenges,
        events,
        experiments,
        flows,
        insights,
        keys,
        layouts,
        members,
        memberships,
        messages,
        offers,
        program,
    )

    for module in (members, events, memberships, challenges, offers, catalog, program, messages, flows,
                   experiments, layouts, keys, insights):
        api.register_blueprint(module.blp)
    register_error_handlers(app)
    return api
