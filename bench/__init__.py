"""Benchmarks of duyet against bare Prefect (and bare FastAPI, bare aiosmtplib): `python -m
bench.run`. Scripts, not tests: each measure runs its baseline in the same run and reports
ratios; see docs/benchmarks.md."""
