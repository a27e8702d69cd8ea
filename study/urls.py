from django.urls import path

from study.views import questions, quiz, results, review, topics

app_name = "study"
urlpatterns = [
    path("", topics.home, name="home"),
    path("settings", review.learner_settings, name="settings"),
    path("study-topics/<int:topic_id>/", topics.topic_detail, name="topic"),
    path("study-topics/<int:topic_id>/edit", topics.topic_edit, name="topic_edit"),
    path(
        "study-topics/<int:topic_id>/overview", review.topic_overview, name="overview"
    ),
    path(
        "study-topics/<int:topic_id>/review-queue",
        review.review_queue,
        name="review_queue",
    ),
    path("study-topics/<int:topic_id>/quiz/start", quiz.quiz_start, name="quiz_start"),
    path(
        "study-topics/<int:topic_id>/rounds/<str:round_key>/",
        topics.round_detail,
        name="round",
    ),
    path(
        "study-topics/<int:topic_id>/questions/new",
        questions.question_new,
        name="question_new",
    ),
    path(
        "study-questions/<int:question_id>/", questions.question_detail, name="question"
    ),
    path(
        "study-questions/<int:question_id>/edit",
        questions.question_edit,
        name="question_edit",
    ),
    path(
        "study-questions/<int:question_id>/delete",
        questions.question_delete,
        name="question_delete",
    ),
    path(
        "study-questions/<int:question_id>/figure",
        questions.question_figure,
        name="question_figure",
    ),
    path("quiz/<int:session_id>/", quiz.quiz_page, name="quiz"),
    path("quiz/<int:session_id>/answer", quiz.quiz_answer, name="quiz_answer"),
    path("quiz/<int:session_id>/abandon", quiz.quiz_abandon, name="quiz_abandon"),
    path("quiz/<int:session_id>/results", results.results_page, name="results"),
    path(
        "quiz/<int:session_id>/results/<int:attempt_id>",
        results.result_card,
        name="result_card",
    ),
    path(
        "attempts/<int:attempt_id>/reviewed",
        results.attempt_reviewed,
        name="attempt_reviewed",
    ),
]
