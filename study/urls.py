from django.urls import path

from study.views import (
    ai,
    documents,
    evidence,
    exports,
    forecast,
    imports,
    offline,
    questions,
    quiz,
    related,
    results,
    review,
    settings,
    subjects,
    topics,
)

app_name = "study"
urlpatterns = [
    # First: resolved on every answer (the patterns before it are tried in turn).
    path("quiz/<int:session_id>/answer", quiz.quiz_answer, name="quiz_answer"),
    path("", topics.home, name="home"),
    path("manifest.webmanifest", offline.web_app_manifest, name="web_app_manifest"),
    path("sw.js", offline.service_worker, name="service_worker"),
    path("offline/", offline.offline_page, name="offline_page"),
    path(
        "quiz/<int:session_id>/offline", offline.offline_bundle, name="offline_bundle"
    ),
    path("quiz/<int:session_id>/sync", offline.offline_sync, name="offline_sync"),
    path("settings", settings.learner_settings, name="settings"),
    path("settings/exam-plans", settings.exam_plan_save, name="exam_plan_save"),
    path(
        "settings/my-data.json", exports.my_data, {"fmt": "json"}, name="my_data_json"
    ),
    path(
        "settings/my-data-csv.zip", exports.my_data, {"fmt": "csv"}, name="my_data_csv"
    ),
    path(
        "settings/exam-plans/<int:plan_id>/delete",
        settings.exam_plan_delete,
        name="exam_plan_delete",
    ),
    path(
        "study-topics/<int:topic_id>/forecast",
        forecast.forecast_page,
        name="forecast",
    ),
    path("study-topics/<int:topic_id>/plan", forecast.plan_page, name="plan"),
    path(
        "study-topics/<int:topic_id>/plan/start",
        forecast.plan_start,
        name="plan_start",
    ),
    path(
        "study-topics/<int:topic_id>/calibration",
        forecast.calibration_page,
        name="calibration",
    ),
    path("study-topics/<int:topic_id>/", topics.topic_detail, name="topic"),
    path("study-topics/<int:topic_id>/edit", topics.topic_edit, name="topic_edit"),
    path(
        "study-topics/<int:topic_id>/subjects",
        subjects.topic_subjects,
        name="topic_subjects",
    ),
    path(
        "study-topics/<int:topic_id>/subjects/merge",
        subjects.subject_merge_view,
        name="subject_merge",
    ),
    path(
        "study-topics/<int:topic_id>/subjects/unmerge",
        subjects.subject_unmerge_view,
        name="subject_unmerge",
    ),
    path(
        "study-topics/<int:topic_id>/exam-spec",
        subjects.exam_spec_edit,
        name="exam_spec_edit",
    ),
    path(
        "study-topics/<int:topic_id>/exam-dates",
        topics.exam_dates_edit,
        name="exam_dates_edit",
    ),
    path(
        "study-topics/<int:topic_id>/overview", review.topic_overview, name="overview"
    ),
    path(
        "study-topics/<int:topic_id>/review-queue",
        review.review_queue,
        name="review_queue",
    ),
    path(
        "study-topics/<int:topic_id>/questions/<int:question_id>/review-complete",
        review.review_complete,
        name="review_complete",
    ),
    path(
        "study-topics/<int:topic_id>/review-complete-all",
        review.review_complete_all,
        name="review_complete_all",
    ),
    path("study-topics/<int:topic_id>/quiz/start", quiz.quiz_start, name="quiz_start"),
    path(
        "study-topics/<int:topic_id>/anki.apkg", exports.topic_anki, name="topic_anki"
    ),
    path(
        "study-topics/<int:topic_id>/export.zip",
        exports.topic_export,
        name="topic_export",
    ),
    path("study-topics/import", exports.topic_import_view, name="topic_import"),
    path(
        "study-topics/<int:topic_id>/review-queue/anki.apkg",
        exports.review_anki,
        name="review_anki",
    ),
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
        "study-questions/<int:question_id>/evidence",
        evidence.evidence_card,
        name="evidence_card",
    ),
    path(
        "study-topics/<int:topic_id>/answer-review",
        evidence.answer_review,
        name="answer_review",
    ),
    path(
        "study-topics/<int:topic_id>/answer-review/compute",
        evidence.answer_review_compute,
        name="answer_review_compute",
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
    path("quiz/<int:session_id>/draft", quiz.mock_draft, name="mock_draft"),
    path("quiz/<int:session_id>/submit", quiz.mock_submit_view, name="mock_submit"),
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
    path(
        "api/study-questions/<int:question_id>/ai-explanation",
        ai.explanation_api,
        name="ai_explanation_api",
    ),
    path(
        "study-questions/<int:question_id>/ai-explanation",
        ai.explanation_htmx,
        name="ai_explanation",
    ),
    path(
        "study-questions/<int:question_id>/ai-panel",
        ai.explanation_panel,
        name="ai_panel",
    ),
    path(
        "study-questions/<int:question_id>/subject-note",
        ai.subject_note_panel,
        name="subject_note",
    ),
    path(
        "study-topics/<int:topic_id>/imports/new",
        imports.import_new,
        name="import_new",
    ),
    path(
        "study-topics/<int:topic_id>/imports/<int:import_id>/",
        imports.import_detail,
        name="import_detail",
    ),
    path(
        "study-topics/<int:topic_id>/imports/<int:import_id>/confirm",
        imports.import_confirm,
        name="import_confirm",
    ),
    path(
        "study-topics/<int:topic_id>/imports/<int:import_id>/retry",
        imports.import_retry,
        name="import_retry",
    ),
    path(
        "study-topics/<int:topic_id>/imports/<int:import_id>/report.json",
        imports.import_report,
        name="import_report",
    ),
    path(
        "study-topics/<int:topic_id>/documents",
        documents.document_list,
        name="documents",
    ),
    path(
        "study-topics/<int:topic_id>/documents/<int:document_id>/delete",
        documents.document_delete,
        name="document_delete",
    ),
    path(
        "study-topics/<int:topic_id>/documents/<int:document_id>/retry",
        documents.document_retry_view,
        name="document_retry",
    ),
    path(
        "study-topics/<int:topic_id>/documents/search",
        documents.document_search_page,
        name="document_search",
    ),
    path(
        "quiz/<int:session_id>/results/ai-states",
        results.results_ai_states,
        name="results_ai_states",
    ),
    path(
        "quiz/<int:session_id>/results/ai-prefetch",
        results.results_ai_prefetch,
        name="results_ai_prefetch",
    ),
    path(
        "study-questions/<int:question_id>/related-types",
        related.related_types,
        name="related_types",
    ),
    path(
        "study-questions/<int:question_id>/related-panel",
        related.related_panel,
        name="related_panel",
    ),
    path(
        "study-topics/<int:topic_id>/related-types-bulk",
        related.related_types_bulk,
        name="related_types_bulk",
    ),
    path(
        "study-questions/<int:question_id>/similar",
        related.question_similar_raw,
        name="question_similar_raw",
    ),
]
