"""What operators see: health and readiness, Prometheus metrics, logs, and database outages.

Its modules sit at different layers (pyproject.toml): `outages`, `logs` and `metrics` import
nothing of Engage, so channels and the error handlers can use them; `collector` and `readiness`
read the database; `web` is the edge that serves /healthz, /readyz and /metrics.
"""
