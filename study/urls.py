from django.urls import path

from study.views import questions, topics

app_name = "study"
urlpatterns = [
    path("", topics.home, name="home"),
    path("study-topics/<int:topic_id>/", topics.topic_detail, name="topic"),
    path("study-topics/<int:topic_id>/edit", topics.topic_edit, name="topic_edit"),
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
]
