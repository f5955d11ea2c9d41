"""The baseline: a bare Flask endpoint doing one INSERT, served like the app (gunicorn).

`POST /bare` parses the JSON body, inserts one row into `bench_bare` and answers 201 JSON.
The table is created by the harness (bench.harness.create_bare_table) before gunicorn starts.
Run: BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn ... bench.bare_app:app
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, jsonify, request

engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=10, max_overflow=20)
INSERT = sa.text("INSERT INTO bench_bare (member_id, kind, amount, idempotency_key) "
                 "VALUES (:member_id, :kind, :amount, :key) RETURNING id")

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


@app.get("/ready")
def ready():
    return jsonify(ok=True)
