"""`make run`: migrate, demo data, then the web server and the task cluster.

Ctrl-C or SIGTERM stops both children, then this process exits, and the
embedded PostgreSQL stops with the last process holding it.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

STOP_GRACE_S = 15


class Command(BaseCommand):
    help = (
        "개발 서버: 마이그레이션, 데모 데이터, 웹 서버와 작업 워커를 함께 실행합니다."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default=os.environ.get("RUN_ADDR", "127.0.0.1:8000")
        )
        parser.add_argument("--no-workers", action="store_true")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=1)
        call_command("load_demo")
        children = [self._spawn("runserver", options["addr"], "--noreload")]
        if not options["no_workers"]:
            children.append(self._spawn("qcluster"))
        self.stdout.write(
            self.style.SUCCESS(f"http://{options['addr']}/ (Ctrl-C 로 종료)")
        )
        stopping = []

        def request_stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.3)
        self._stop(children)

    def _spawn(self, *args: str) -> subprocess.Popen:
        # Own session: the terminal's Ctrl-C reaches only this supervisor,
        # which then stops each child in order.
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], start_new_session=True
        )

    def _stop(self, children: list[subprocess.Popen]) -> None:
        self.stdout.write("종료하는 중…")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
