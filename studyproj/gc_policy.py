"""The garbage collector in a long-running server process.

A full (generation 2) collection walks every container object the process
holds. Once Django has loaded (apps, models, URLconf, views, forms) a web
process holds about 110,000 of them, and one full collection costs about
48 ms on a 2-core machine. CPython starts one whenever enough new objects
have survived the younger collections, so a request that allocates a lot
(a mock exam's submit builds 360 model instances) pays those milliseconds
now and then, on top of its own: a submit of 28 ms took 82 ms with a full
collection in it (session 8, docs/benchmarks.md).

What is loaded at startup lives as long as the process, so it is moved out
of the collector's reach with gc.freeze() (CPython's advice for servers;
before a fork it also keeps those pages shared): later collections walk
only what requests created, 0.01 ms instead of 48 for the same full
collection. A frozen object is never freed; only what exists when the
process starts is frozen.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Load what the first request would (the URLconf and the views it
    imports), free the garbage of startup, then freeze what is left.
    Returns the number of objects frozen."""
    from django.urls import get_resolver  # noqa: PLC0415 (after django.setup)

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
