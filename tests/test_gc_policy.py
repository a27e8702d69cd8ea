"""A server process freezes its startup heap, so a full garbage collection
during a request walks only what requests made (studyproj/gc_policy.py)."""

import gc
import os
import subprocess
import sys
from pathlib import Path

from studyproj.gc_policy import freeze_startup_heap

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import gc, sys
import studyproj.{entry}
print(gc.get_freeze_count(), "study.views.quiz" in sys.modules)
"""


def test_freezing_loads_the_views_and_leaves_later_objects_to_the_collector():
    frozen_before = gc.get_freeze_count()
    try:
        frozen = freeze_startup_heap()
        # (a frozen object that loses its last reference is still freed, so
        # the count may drop by the time it is read again)
        assert frozen > frozen_before + 10_000
        assert gc.get_freeze_count() > frozen_before + 10_000
        assert "study.views.quiz" in sys.modules  # the URLconf's views
        later = [[] for _ in range(1000)]
        assert gc.is_tracked(later[0])
        assert gc.get_count()[0] > 0  # new objects still enter generation 0
    finally:
        gc.unfreeze()


def _probe(entry: str) -> tuple[int, bool]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "studyproj.settings"}
    env.setdefault("DEBUG", "true")
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(entry=entry)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    count, views = done.stdout.split()[-2:]
    return int(count), views == "True"


def test_the_wsgi_and_asgi_applications_start_with_the_heap_frozen():
    for entry in ("wsgi", "asgi"):
        count, views = _probe(entry)
        # Django, the apps and every view: tens of thousands of objects
        assert count > 50_000, entry
        assert views, entry
