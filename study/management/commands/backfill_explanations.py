from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from study.ai.explanation_jobs import explanation_jobs_enqueue
from study.jobs import runner as job_runner
from study.llm.client import llm_configured
from study.management.topic_option import OWNER_HELP, topic_from_options
from study.models import JobStatus, Question, QuestionJob


class Command(BaseCommand):
    help = "토픽의 AI 해설이 없는 문제를 백그라운드 작업으로 채웁니다."

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True)
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument("--max", type=int, default=None, help="최대 문제 수")
        parser.add_argument(
            "--wait",
            action="store_true",
            help=(
                "넣은 작업을 이 프로세스가 직접 처리하며 끝날 때까지 기다립니다 "
                "(큐에 먼저 있던 작업도 차례대로; 재시도를 기다리는 작업은 워커에게 "
                "남깁니다). 없으면 작업만 넣고 워커가 처리합니다."
            ),
        )

    def handle(self, *args, **options):
        if not llm_configured():
            raise CommandError("LLM_BASE_URL 이 설정되어 있지 않습니다.")
        topic = topic_from_options(options)
        ids = list(
            Question.objects.alive()
            .filter(topic=topic)
            .order_by("id")
            .values_list("id", flat=True)
        )
        created = explanation_jobs_enqueue(
            user_id=topic.owner_id,
            question_ids=ids,
            max_count=options["max"],
            operator=True,  # counted against the owner's AI budget, not refused
        )
        self.stdout.write(f"{created}개 작업을 넣었습니다.")
        if options["wait"]:
            self._drain(topic, created)

    def _drain(self, topic, total: int) -> None:
        with tqdm(total=total, desc="explanations", unit="q") as bar:
            # Due jobs of every kind, in queue order; a failed attempt waits
            # for its backoff and is left to the workers.
            while job_runner.jobs_consume(batch=1):
                bar.update(1)
        done = QuestionJob.objects.filter(question__topic=topic)
        for status in JobStatus:
            count = done.filter(status=status).count()
            if count:
                self.stdout.write(f"  {status.label}: {count}")
