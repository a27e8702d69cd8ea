from django.core.management.base import BaseCommand

from study.jobs.health import SECTIONS, jobs_health


class Command(BaseCommand):
    help = "백그라운드 AI 작업의 운영 점검 보고서 (guard_fail 사유와 독립 확인 포함)."

    def handle(self, *args, **options):
        report = jobs_health()
        for key, title in SECTIONS:
            columns, rows = report[key]
            self.stdout.write(self.style.MIGRATE_HEADING(str(title)))
            widths = [
                max(len(str(c)), *(len(str(r[i])) for r in rows))
                if rows
                else len(str(c))
                for i, c in enumerate(columns)
            ]
            self.stdout.write(
                "  "
                + "  ".join(
                    str(c).ljust(w) for c, w in zip(columns, widths, strict=True)
                )
            )
            for row in rows:
                self.stdout.write(
                    "  "
                    + "  ".join(
                        str(v).ljust(w) for v, w in zip(row, widths, strict=True)
                    )
                )
            if not rows:
                self.stdout.write("  (없음)")
