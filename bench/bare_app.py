"""The baseline: a bare Flask endpoint doing one INSERT, served like the app (gunicorn).

`POST /bare` parses the JSON body, inserts one row into `bench_bare` and answers 201 JSON.
The table is created by the harness (bench.harness.create_bare_table) before gunicorn starts.

`POST /webhooks/twilio/sms` (the inbound bench's baselines) parses the same form Twilio posts,
checks X-Twilio-Signature with twilio's RequestValidator over ENGAGE_PUBLIC_URL + path (as the
app does, token from TWILIO_AUTH_TOKEN) and answers a fixed TwiML string. With
BARE_TWILIO_STORE=1 it also inserts the message (sid, from, body) into `bench_bare_inbound` in
one transaction first — the least a receiver that must not lose a message does; without it, it
touches no database at all.
Run: BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn ... bench.bare_app:app
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, Response, abort, jsonify, request
from twilio.request_validator import RequestValidator

engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=10, max_overflow=20)
INSERT = sa.text("INSERT INTO bench_bare (member_id, kind, amount, idempotency_key) "
                 "VALUES (:member_id, :kind, :amount, :key) RETURNING id")

INSERT_INBOUND = sa.text("INSERT INTO bench_bare_inbound (sid, from_number, body) "
                         "VALUES (:sid, :from_number, :body) RETURNING id")
STORE_INBOUND = os.environ.get("BARE_TWILIO_STORE") == "1"

TWIML = ('<?xml version="1.0" encoding="UTF-8"?>'
         "<Response><Message>Thanks, we got your message.</Message></Response>")

app = Flask(__name__)


@app.post("/bare")
def bare():
    body = request.get_json()
    with engine.begin() as connection:
        row_id = connection.execute(INSERT, {
            "member_id": int(body.get("member_id", 0)), "kind": body["type"],
            "amount": body.get("amount"), "key": request.headers.get("Idempotency-Key"),
        }).scalar_one()
    return jsonify(id=row_id), 201


@app.post("/webhooks/twilio/sms")
def bare_twilio_sms():
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    signature = request.headers.get("X-Twilio-Signature", "")
    url = os.environ.get("ENGAGE_PUBLIC_URL", "http://127.0.0.1:5000") + request.path
    if not token or not RequestValidator(token).validate(url, request.form.to_dict(flat=True), signature):
        abort(403)
    if STORE_INBOUND:
        with engine.begin() as connection:
            connection.execute(INSERT_INBOUND, {"sid": request.form.get("MessageSid"),
                                                "from_number": request.form.get("From", ""),
                                                "body": request.form.get("Body", "")})
    return Response(TWIML, status=200, mimetype="text/xml")


@app.get("/ready")
def ready():
    return jsonify(ok=True)
