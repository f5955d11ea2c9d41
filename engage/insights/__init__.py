"""Pure rules for the program's figures: local days and periods, rates, means, the liability and
the retention triangle. Plain values in and out; no Flask, no SQLAlchemy (the store computes the
daily rollups, engage.services.insights reads them)."""
