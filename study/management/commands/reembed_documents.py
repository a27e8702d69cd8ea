from django.core.management.base import BaseCommand

from study.documents.services import documents_reembed
from study.llm.embeddings import get_embedder


class Command(BaseCommand):
    help = (
        "현재 임베더가 만들지 않은 자료 조각 벡터를 모두 다시 만듭니다 (모델 변경 후)."
    )

    def handle(self, *args, **options):
        count = documents_reembed()
        self.stdout.write(
            f"{count}개 조각을 {get_embedder().name} 로 다시 임베딩했습니다."
        )
