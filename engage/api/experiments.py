"""Experiments (marketer): variant B of a flow template for one channel and locale, each member's
variant fixed by a hash, results with a two-proportion test in plain words; stop, promote."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engage import state
from engage.api import pagination
from engage.api.auth import requires
from engage.api.fields import Int, locale_field
from engage.api.flows import CHANNEL, TemplatePartsSchema
from engage.api.parser import Blueprint
from engage.api.schemas import PageQuery
from engage.experiments import OUTCOMES, VARIANTS
from engage.models import Experiment
from engage.services import experiments
from engage.services.audit import Actor
from engage.templating import FLOW_KEYS

blp = Blueprint("experiments", __name__, url_prefix="/api/v1/experiments",
                description="A/B experiments on flow templates: results, stop, promote")

MAX_WINDOW_DAYS = 90


class ExperimentCreateSchema(TemplatePartsSchema):
    """Variant B's parts as a template's (sms: body; email: subject, html, text), checked as a save."""

    flow = fields.String(required=True, validate=validate.OneOf(list(FLOW_KEYS)))
    channel = fields.String(required=True, validate=CHANNEL)
    locale = locale_field(required=True, metadata={"description": "the template's locale (e.g. en)"})
    name = fields.String(validate=validate.Length(min=1, max=120),
                         metadata={"description": "default: flow, channel and locale"})
    split_percent = Int(required=True, validate=validate.Range(min=1, max=99),
                        metadata={"description": "the share of members that get B, in percent"})
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), metadata={
        "description": "reply: the member answers the message; redemption / purchase: the member "
                       "redeems / buys"})
    window_days = Int(load_default=7, validate=validate.Range(min=1, max=MAX_WINDOW_DAYS),
                      metadata={"description": "the outcome counts within this many days after the send"})


class VariantResultSchema(Schema):
    variant = fields.String(metadata={"enum": list(VARIANTS)})
    sends = Int(metadata={"description": "messages of this variant sent or delivered"})
    outcomes = Int(metadata={"description": "of those, the ones followed by the outcome within the window"})
    rate = fields.Float(allow_none=True, metadata={"description": "outcomes / sends (null without sends)"})


class ResultsSchema(Schema):
    variants = fields.List(fields.Nested(VariantResultSchema))
    enough = fields.Boolean(metadata={"description": "enough sends for the test (else no p-value)"})
    z = fields.Float(allow_none=True)
    p_value = fields.Float(allow_none=True, metadata={
        "description": "two-sided two-proportion z-test: how often chance alone gives a difference this large"})
    difference = fields.Float(allow_none=True, metadata={"description": "B's rate minus A's"})
    leader = fields.String(allow_none=True, metadata={"enum": list(VARIANTS)})
    sentence = fields.String(metadata={"description": "the result in plain words"})


class ExperimentSchema(Schema):
    id = Int()
    flow = fields.String()
    channel = fields.String()
    locale = fields.String()
    name = fields.String()
    parts = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "variant B"})
    split_percent = Int()
    outcome = fields.String(metadata={"enum": list(OUTCOMES)})
    window_days = Int()
    status = fields.String(metadata={"enum": list(experiments.STATUSES)})
    promoted_version = Int(allow_none=True, metadata={"description": "the template version B became"})
    created_by = fields.String(allow_none=True)
    started_at = fields.DateTime()
    stopped_at = fields.DateTime(allow_none=True)
    results = fields.Nested(ResultsSchema)


class ExperimentListItemSchema(ExperimentSchema):
    class Meta:
        exclude = ("results",)


class ExperimentPageSchema(Schema):
    items = fields.List(fields.Nested(ExperimentListItemSchema))
    next = fields.String(allow_none=True)


class ExperimentQuery(PageQuery):
    flow = fields.String(validate=validate.OneOf(list(FLOW_KEYS)))
    status = fields.String(validate=validate.OneOf(experiments.STATUSES))


def _actor() -> Actor:
    return Actor(name=f"key:{g.api_key.name}")  # a machine: the audit log names its key


@blp.route("")
class Experiments(MethodView):
    @requires("marketer")
    @blp.arguments(ExperimentQuery(), location="query")
    @blp.response(200, ExperimentPageSchema)
    def get(self, query):
        """Experiments, newest first (optionally of one flow or status)."""
        stmt = experiments.experiments(query.get("flow"), query.get("status"))
        rows, cursor = pagination.page(state.session(), stmt, Experiment.id, query["limit"], query.get("cursor"))
        return {"items": [experiments.experiment_json(row) for row in rows], "next": cursor}

    @requires("marketer")
    @blp.arguments(ExperimentCreateSchema())
    @blp.response(201, ExperimentSchema)
    @blp.alt_response(409, description="an experiment already runs on this template")
    @blp.alt_response(422, description="variant B has errors (as a template save), or a bad field")
    def post(self, data):
        """Start an experiment: members get variant B at `split_percent` %, decided by a hash."""
        return experiments.start(state.session(), data, _actor(), state.now())


@blp.route("/<int:experiment_id>")
class ExperimentItem(MethodView):
    @requires("marketer")
    @blp.response(200, ExperimentSchema)
    @blp.alt_response(404, description="no such experiment")
    def get(self, experiment_id):
        """One experiment with its results per variant and the test in plain words."""
        return experiments.get(state.session(), experiment_id)


@blp.route("/<int:experiment_id>/stop")
class ExperimentStop(MethodView):
    @requires("marketer")
    @blp.response(200, ExperimentSchema)
    @blp.alt_response(404, description="no such experiment")
    @blp.alt_response(409, description="not running")
    def post(self, experiment_id):
        """Stop it: new messages get the live template; those sent keep their variant."""
        return experiments.stop(state.session(), experiment_id, _actor(), state.now())


@blp.route("/<int:experiment_id>/promote")
class ExperimentPromote(MethodView):
    @requires("marketer")
    @blp.response(200, ExperimentSchema)
    @blp.alt_response(404, description="no such experiment")
    @blp.alt_response(409, description="promoted already")
    @blp.alt_response(422, description="variant B no longer passes the template checks")
    def post(self, experiment_id):
        """Save variant B as the template's newest version and end the experiment."""
        return experiments.promote(state.session(), experiment_id, _actor(), state.now())
