"""Program settings: SPEC defaults, merging stored settings over them, EarningRules."""

from __future__ import annotations

import copy
from decimal import Decimal

from engage.loyalty.settings import ACTION_TYPES, DEFAULT_SETTINGS, EarningRules, merged_settings


def test_spec_defaults():
    assert DEFAULT_SETTINGS["points_per_currency_unit"] == 1
    assert DEFAULT_SETTINGS["action_points"] == {
        "signup": 100, "newsletter_signup": 20, "social_follow": 10, "review": 50,
        "feedback": 25, "reply": 5, "referral": 200,
    }
    assert DEFAULT_SETTINGS["reply_daily_cap"] == 3
    assert DEFAULT_SETTINGS["lot_lifetime_days"] == 365
    assert DEFAULT_SETTINGS["qualifying_window_days"] == 365


def test_action_types_all_have_default_points():
    assert set(ACTION_TYPES) <= set(DEFAULT_SETTINGS["action_points"])


def test_merged_settings_of_nothing_is_the_defaults():
    assert merged_settings(None) == DEFAULT_SETTINGS
    assert merged_settings({}) == DEFAULT_SETTINGS


def test_merged_settings_is_a_copy():
    before = copy.deepcopy(DEFAULT_SETTINGS)
    merged = merged_settings({})
    merged["action_points"]["review"] = 999
    merged["quiet_hours"]["start"] = "20:00"
    merged["reply_daily_cap"] = 0
    assert DEFAULT_SETTINGS == before


def test_stored_scalar_overrides_default():
    merged = merged_settings({"lot_lifetime_days": 180, "phone_region": "NL"})
    assert merged["lot_lifetime_days"] == 180
    assert merged["phone_region"] == "NL"
    assert merged["qualifying_window_days"] == 365


def test_stored_nested_dict_is_merged_key_by_key():
    before = copy.deepcopy(DEFAULT_SETTINGS)
    merged = merged_settings({"action_points": {"review": 80}, "quiet_hours": {"end": "09:00"}})
    assert merged["action_points"]["review"] == 80
    assert merged["action_points"]["signup"] == 100  # untouched defaults survive
    assert merged["quiet_hours"] == {"start": "21:00", "end": "09:00"}
    assert DEFAULT_SETTINGS == before


def test_unknown_stored_keys_are_kept():
    assert merged_settings({"future_setting": 1})["future_setting"] == 1


def test_earning_rules_from_defaults():
    rules = EarningRules.from_settings({})
    assert rules.points_per_currency_unit == 1
    assert rules.reply_daily_cap == 3
    assert rules.lot_lifetime_days == 365
    assert rules.qualifying_window_days == 365
    assert rules.max_purchase_amount == Decimal("100000.00")
    assert rules.action_points["signup"] == 100


def test_earning_rules_coerce_stored_values():
    rules = EarningRules.from_settings({
        "points_per_currency_unit": "2", "reply_daily_cap": "5", "lot_lifetime_days": "90",
        "qualifying_window_days": 180, "max_purchase_amount": 2500.5,
    })
    assert rules.points_per_currency_unit == 2
    assert rules.reply_daily_cap == 5
    assert rules.lot_lifetime_days == 90
    assert rules.qualifying_window_days == 180
    assert rules.max_purchase_amount == Decimal("2500.5")


def test_earning_rules_action_points_are_a_copy():
    rules = EarningRules.from_settings({})
    rules.action_points["signup"] = 1
    assert DEFAULT_SETTINGS["action_points"]["signup"] == 100
    assert EarningRules.from_settings({}).action_points["signup"] == 100
