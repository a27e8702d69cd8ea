"""Synthetic Korean exam text and embedding vectors, deterministic from a seed.

The words follow a Zipf distribution over a few real domain words and a few
thousand made-up ones, so trigram indexes see a realistic spread of trigrams.
"""

from __future__ import annotations

import itertools
import random

import numpy as np


def words(text: str) -> list[str]:
    return text.split()


DOMAIN_WORDS = words(
    "안전 보건 관리 재해 위험 기계 전기 화학 설비 작업 근로자 사업주 보호구 점검 "
    "교육 산업 규칙 기준 방호 장치 측정 평가 조치 예방 발생 원인 분석 사고 감전 "
    "접지 누전 차단기 화재 폭발 가스 농도 소음 진동 분진 유해 물질 취급 저장 용기 "
    "배관 압력 온도 크레인 리프트 비계 거푸집 굴착 추락 낙하 협착 전도 붕괴 "
    "안전관리자 보건관리자 관리감독자 위원회 계획 진단 인증 검사 표지 경보 "
    "환기 국소배기 호흡용 절연 정전기 방폭 인화성 부식성 독성 허용 노출 한계 "
    "작업환경 건강진단 산업재해 통계 강도율 도수율 시스템 신뢰도 인간공학 "
    "휴먼에러 동작 피로 조명 색채 리더십 동기부여 집단 심리 적성 훈련 "
    "하중 응력 안전율 용접 연삭기 프레스 롤러 컨베이어 지게차 양중기 와이어로프"
)
SYLLABLES = words(
    "가 간 감 강 개 거 건 검 격 결 경 계 고 공 과 관 광 교 구 국 군 권 규 균 극 근 "
    "기 긴 나 내 노 능 다 단 담 당 대 도 동 두 등 라 량 력 련 령 로 료 류 률 리 마 "
    "만 망 면 명 모 목 무 문 물 미 반 발 방 배 법 변 별 보 복 본 부 분 비 사 산 상 "
    "생 서 선 설 성 세 소 속 손 수 순 시 식 신 실 심 안 압 액 야 양 어 업 역 연 열 "
    "염 영 예 오 온 완 외 요 용 우 운 원 위 유 율 응 의 이 인 일 임 입 자 작 장 재 "
    "저 적 전 절 점 접 정 제 조 종 주 준 중 증 지 직 진 질 차 착 참 처 척 천 철 체 "
    "초 총 최 추 축 출 측 치 침 타 탄 태 통 특 파 판 평 폐 포 표 품 피 하 한 할 합 "
    "항 해 행 허 험 현 형 호 화 확 환 활 황 회 효 후 휴"
)
STEM_TEMPLATES = (
    "{a} {b}에 관한 설명으로 옳지 않은 것은?",
    "산업안전보건법령상 {a}의 {b} 기준으로 옳은 것은?",
    "{a}에서 {b}의 원인으로 가장 거리가 먼 것은?",
    "다음 중 {a} {b}에 해당하는 것은?",
    "{a} 작업 시 {b} 및 {c}에 대한 조치로 틀린 것은?",
    "{a}의 {b} {c} 방법으로 가장 적절한 것은?",
    "{a}에 따른 {b}의 {c} 값은 얼마인가?",
)
ENDINGS = ("이다.", "하여야 한다.", "을 말한다.", "에 따른다.", "할 수 있다.")
UNITS = ("m", "cm", "mm", "kg", "V", "mA", "%", "ppm", "dB", "℃", "시간", "명")
SCALE = 10_000  # vectors are written with four decimals


class TextGenerator:
    def __init__(self, rng: random.Random, vocabulary: int = 4000) -> None:
        self.rng = rng
        made_up: set[str] = set()
        while len(made_up) < vocabulary:
            made_up.add("".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3, 4)))))
        self.vocabulary = [*DOMAIN_WORDS, *sorted(made_up)]
        rng.shuffle(self.vocabulary)
        weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(self.vocabulary))]
        self._cumulative = list(itertools.accumulate(weights))

    def words(self, k: int) -> list[str]:
        return self.rng.choices(self.vocabulary, cum_weights=self._cumulative, k=k)

    def phrase(self, k: int) -> str:
        return " ".join(self.words(k))

    def stem(self) -> str:
        a, b, c = (self.phrase(self.rng.randint(2, 4)) for _ in range(3))
        stem = self.rng.choice(STEM_TEMPLATES).format(a=a, b=b, c=c)
        if self.rng.random() < 0.2:
            stem += f" (단, {self.phrase(self.rng.randint(2, 5))}은 제외한다.)"
        return stem

    def choice(self) -> str:
        if self.rng.random() < 0.2:
            number = self.rng.choice((1, 2, 3, 5, 10, 15, 20, 30, 50, 100, 1.5, 2.5))
            return f"{number} {self.rng.choice(UNITS)} 이상"
        return self.phrase(self.rng.randint(1, 8))

    def sentence(self) -> str:
        return self.phrase(self.rng.randint(5, 12)) + self.rng.choice(ENDINGS)

    def paragraph(self, chars: int) -> str:
        parts: list[str] = []
        total = 0
        while total < chars:
            sentence = self.sentence()
            parts.append(sentence)
            total += len(sentence) + 1
        return " ".join(parts)

    def markdown(self, chars: int) -> str:
        return f"**정답 해설**\n\n{self.paragraph(chars // 2)}\n\n- {self.sentence()}\n"


class VectorWriter:
    """Unit vectors as pgvector text ('[0.0123,-0.0456,…]'), formatted fast."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._table = [f"{(i - SCALE) / SCALE:.4f}" for i in range(2 * SCALE + 1)]

    def text(self, matrix: np.ndarray) -> list[str]:
        scaled = np.clip(np.rint(matrix * SCALE), -SCALE, SCALE).astype(np.int32)
        table = self._table
        return [
            "[" + ",".join([table[i] for i in row]) + "]"
            for row in (scaled + SCALE).tolist()
        ]


def unit_vectors(gen: np.random.Generator, n: int, dim: int) -> np.ndarray:
    matrix = gen.standard_normal((n, dim), dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def near(gen: np.random.Generator, base: np.ndarray, noise: float) -> np.ndarray:
    """A unit vector at cosine ≈ 1/sqrt(1 + noise²) from `base`."""
    step = gen.standard_normal(base.shape, dtype=np.float32) / np.sqrt(base.shape[-1])
    vector = base + noise * step
    return vector / np.linalg.norm(vector)
