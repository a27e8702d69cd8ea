"""`manage.py benchmark`: a reproducible performance harness (issue 8).

It builds a synthetic dataset in its own database on the same PostgreSQL
server (never the working one), then measures the learner's hot paths through
the real Django stack, the explanation-job pipeline, the batch commands and a
load test against gunicorn. See docs/benchmarks.md.
"""
