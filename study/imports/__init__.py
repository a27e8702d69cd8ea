"""Question banks from files: parsing messy CSV/JSONL into rows, the idempotent import,
and web import runs (upload, dry run, import, report).
"""
