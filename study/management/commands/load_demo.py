from django.core.management.base import BaseCommand

from study.services.demo import demo_setup


class Command(BaseCommand):
    help = "개발용 데모 계정(DEBUG 에서 사용자가 없을 때만)과 데모 토픽을 만듭니다."

    def handle(self, *args, **options):
        result = demo_setup()
        for username, password in result.created_accounts:
            self.stdout.write(
                self.style.WARNING(f"개발용 계정 생성: {username} / {password}")
            )
        if result.topic is None or result.report is None:
            self.stdout.write("관리자 계정이 없어 데모 토픽을 건너뜁니다.")
            return
        r = result.report
        self.stdout.write(
            f"데모 토픽 '{result.topic.name}': 새로 {r.imported}, 갱신 {r.updated}, "
            f"그대로 {r.unchanged}, 거부 {r.rejected_count}"
        )
