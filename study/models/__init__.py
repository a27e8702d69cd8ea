from study.models.ai_spend import AISpend
from study.models.amendment import (
    AmendmentReason,
    AmendmentStatus,
    QuestionAmendment,
)
from study.models.attempt import UNSURE_CHOICE, Attempt, Outcome
from study.models.document import (
    Document,
    DocumentChunk,
    DocumentError,
    DocumentStatus,
    EmbeddingCache,
    MaterialType,
    SubjectNote,
    SubjectNoteStatus,
)
from study.models.evidence import EvidenceCard
from study.models.exam_plan import ExamPlan
from study.models.exam_spec import ExamRound, ExamSpec
from study.models.forecast_snapshot import ForecastSnapshot
from study.models.jobs import (
    JobError,
    JobKind,
    JobStatus,
    QuestionJob,
    SessionAnalysis,
    SessionJob,
)
from study.models.progress import LearnerSettings, Pattern, QuestionProgress
from study.models.question import AIExplanationStatus, EmbeddingStatus, Question
from study.models.question_import import (
    ImportFailure,
    ImportStatus,
    QuestionImport,
    QuestionImportFile,
)
from study.models.quiz_session import (
    Feedback,
    QuizMode,
    QuizSession,
    QuizStage,
    QuizStatus,
)
from study.models.rate_limit import RateLimitHit
from study.models.subject_alias import SubjectAlias
from study.models.topic import Topic

__all__ = [
    "AISpend",
    "UNSURE_CHOICE",
    "AIExplanationStatus",
    "AmendmentReason",
    "AmendmentStatus",
    "Attempt",
    "Document",
    "DocumentChunk",
    "DocumentError",
    "DocumentStatus",
    "EmbeddingCache",
    "EmbeddingStatus",
    "EvidenceCard",
    "ExamPlan",
    "ExamRound",
    "ExamSpec",
    "ForecastSnapshot",
    "ImportFailure",
    "ImportStatus",
    "MaterialType",
    "SubjectNote",
    "SubjectNoteStatus",
    "JobError",
    "JobKind",
    "JobStatus",
    "LearnerSettings",
    "Outcome",
    "Pattern",
    "Question",
    "QuestionAmendment",
    "QuestionImport",
    "QuestionImportFile",
    "QuestionJob",
    "QuestionProgress",
    "QuizMode",
    "QuizSession",
    "QuizStage",
    "QuizStatus",
    "Feedback",
    "RateLimitHit",
    "SessionAnalysis",
    "SessionJob",
    "SubjectAlias",
    "Topic",
]
