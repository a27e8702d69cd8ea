from study.models.question import AIExplanationStatus, Question
from study.models.topic import Topic

__all__ = ["AIExplanationStatus", "Question", "Topic"]
