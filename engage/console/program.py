"""Program pages (admins): the settings PATCH /api/v1/program takes, the tiers and the rewards
catalog, through the same schemas and services as the API, every change in the audit log.

Admins only, as in the API (GET /api/v1/program needs an admin key too)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from engage import state
from engage.api.program_schemas import REWARD_KINDS, ProgramSchema, RewardPatchSchema, RewardSchema, TierSchema
from engage.console import program_form as form
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.errors import Conflict, NotFound, Unprocessable
from engage.messaging import phones
from engage.loyalty import partner_codes as code_lists
from engage.services import audit, catalog, partner_codes, program_settings


def _settings() -> dict:
    body = program_settings.read(state.session())
    body.pop("donations")
    return body


def _service_errors(error: Unprocessable | Conflict, field: str = "form") -> dict[str, str]:
    """A service's refusal by its field (a 409 has none: it goes to `field`)."""
    return form.field_errors(error.errors) if error.errors else {field: error.message}


def _record(action: str, object_type: str, object_id, before: dict | None, after: dict) -> None:
    before, after = form.changes(before, after) if before is not None else (None, after)
    if after:
        audit.record(state.session(), actor(), action, object_type, str(object_id), before, after, state.now())


@blp.route("/program", methods=["GET", "POST"])
@requires("admin")
def program():
    """The program's settings (earning, caps, quiet hours, time zone, phone region, help text)."""
    current = _settings()
    values, errors, status = form.values(current, form.PROGRAM_FIELDS), {}, 200
    if request.method == "POST":
        data, errors = form.read(request.form, form.PROGRAM_FIELDS, ProgramSchema())
        if not errors:
            after = program_settings.update(state.session(), data, state.now())
            after.pop("donations")
            _record("program.update", "program", "program", current, after)
            flash("Program settings saved.")
            return redirect(url_for("console.program"))
        values, status = form.posted(request.form, form.PROGRAM_FIELDS), 422
    return render_template("console/program.html", values=values, errors=errors, regions=sorted(phones.REGIONS),
                           tiers=catalog.list_tiers(state.session()),
                           donations=program_settings.donation_totals(state.session())), status


def _tier(tier_id: int) -> dict:
    return form.one_or_404(catalog.list_tiers(state.session()), lambda tier: tier["id"] == tier_id,
                           f"There is no tier {tier_id}.")


@blp.route("/program/tiers/<int:tier_id>", methods=["GET", "POST"])
@requires("admin")
def tier(tier_id: int):
    """One tier's name, threshold, multiplier and benefits."""
    current = _tier(tier_id)
    values, errors, status = form.values(current, form.TIER_FIELDS), {}, 200
    if request.method == "POST":
        data, errors = form.read(request.form, form.TIER_FIELDS, TierSchema())
        if not errors:
            try:
                after = catalog.update_tier(state.session(), tier_id, data)
            except (Unprocessable, Conflict) as error:
                errors = _service_errors(error)
            else:
                _record("tier.update", "tier", tier_id, current, after)
                flash(f"Tier {after['name']} saved.")
                return redirect(url_for("console.program") + "#tiers")
        values, status = form.posted(request.form, form.TIER_FIELDS), 422
    return render_template("console/tier.html", tier=current, values=values, errors=errors), status


@blp.route("/program/rewards")
@requires("admin")
def rewards():
    """The rewards catalog, cheapest first, disabled ones too."""
    items = catalog.list_rewards(state.session())
    return render_template("console/rewards.html", rewards=items, low=[r for r in items if r["codes_low"]])


def _reward_form(reward: dict | None):
    """Create (reward None) or edit one reward."""
    tiers = [tier["name"] for tier in catalog.list_tiers(state.session())]
    blank = {"name": "", "kind": "discount", "cost": None, "value": None, "min_tier": None, "active": True,
             "low_codes_threshold": catalog.DEFAULT_LOW_CODES}
    values, errors, status = form.values(reward or blank, form.REWARD_FIELDS), {}, 200
    if request.method == "POST":
        schema = RewardSchema() if reward is None else RewardPatchSchema()
        data, errors = form.read(request.form, form.REWARD_FIELDS, schema)
        if not errors:
            try:
                if reward is None:
                    after = catalog.create_reward(state.session(), data)
                else:
                    after = catalog.update_reward(state.session(), reward["id"], data)
            except (Unprocessable, Conflict) as error:
                errors = _service_errors(error, "name")
            else:
                _record("reward.create" if reward is None else "reward.update", "reward", after["id"], reward, after)
                flash(f"Reward {after['name']} saved.")
                return redirect(url_for("console.rewards"))
        values, status = form.posted(request.form, form.REWARD_FIELDS), 422
    return render_template("console/reward.html", reward=reward, values=values, errors=errors, tiers=tiers,
                           kinds=REWARD_KINDS), status


@blp.route("/program/rewards/new", methods=["GET", "POST"])
@requires("admin")
def reward_new():
    """Add a reward to the catalog."""
    return _reward_form(None)


def _reward(reward_id: int) -> dict:
    try:
        return catalog.reward(state.session(), reward_id)
    except NotFound:
        abort(404, description=f"There is no reward {reward_id}.")


@blp.route("/program/rewards/<int:reward_id>", methods=["GET", "POST"])
@requires("admin")
def reward(reward_id: int):
    """Change a reward (past redemptions keep what they cost)."""
    return _reward_form(_reward(reward_id))


MAX_CODES_FILE = 4_000_000  # bytes: what POST /api/v1/rewards/{id}/codes takes as `csv`


@blp.route("/program/rewards/<int:reward_id>/codes", methods=["POST"])
@requires("admin")
def reward_codes(reward_id: int):
    """Add a partner's CSV of codes to the reward's pool (all or nothing), as the API and
    `engage rewards import-codes` do."""
    current = _reward(reward_id)
    upload = request.files.get("file")
    data = upload.read(MAX_CODES_FILE + 1) if upload else b""
    try:
        if len(data) > MAX_CODES_FILE:
            raise Unprocessable("the file is larger than 4 MB: split it", {})
        result = partner_codes.import_codes(state.session(), reward_id,
                                            code_lists.from_csv(data.decode("utf-8-sig")), state.now())
    except UnicodeDecodeError:
        flash("Codes not imported: the file is not UTF-8 text.")
    except (Unprocessable, Conflict, NotFound) as error:
        flash(f"Codes not imported: {error.message}.")
        for line in (error.errors or {}).get("codes", []):
            flash(line)
    else:
        _record("reward.codes_import", "reward", reward_id, None,
                {key: result[key] for key in ("imported", "already_in_pool", "repeated", "available")})
        flash(f"{result['imported']} codes imported into {current['name']} ({result['already_in_pool']} already "
              f"in the pool, {result['repeated']} repeated in the file); {result['available']} available.")
    return redirect(url_for("console.reward", reward_id=reward_id))


@blp.route("/program/rewards/<int:reward_id>/active", methods=["POST"])
@requires("admin")
def reward_switch(reward_id: int):
    """Disable a reward (members can no longer redeem it) or enable it again."""
    current = _reward(reward_id)
    after = catalog.update_reward(state.session(), reward_id, {"active": request.form.get("active") == "on"})
    _record("reward.update", "reward", reward_id, current, after)
    flash(f"Reward {after['name']} is {'enabled' if after['active'] else 'disabled'}.")
    return redirect(url_for("console.rewards"))
