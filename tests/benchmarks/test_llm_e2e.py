"""`manage.py llm_e2e`'s own logic: which questions the learner misses, and
the per-question report of what decided each card (the real LLM runs only in
the measurement; here a fake server answers)."""

from benchmarks.llm_e2e import miss_plan, names_loaded_statute, question_rows
from study.ai.guard import GuardReason
from study.jobs import runner as job_runner
from study.models import JobError, JobStatus, QuizMode
from tests.conftest import make_document
from tests.study.ai_jobs_helpers import DOC, good, q, run_due_jobs
from tests.study.learner_helpers import answer_all, start

LOADED = ["산업안전보건기준에관한규칙", "산업안전보건법-시행령", "중대재해처벌법"]


def test_a_stem_names_a_loaded_statute_by_its_act_or_the_head_of_one():
    assert names_loaded_statute("산업안전보건법령상 안전보건표지로 옳은 것은?", LOADED)
    assert names_loaded_statute(
        "산업안전보건기준에 관한 규칙상 추락의 방지 조치가 아닌 것은?", LOADED
    )
    assert not names_loaded_statute("건설기술 진흥법상 안전관리계획은?", LOADED)
    assert not names_loaded_statute("브레인스토밍의 4원칙은?", LOADED)


STEMS = ["산업안전보건법령상 옳은 것은?"] * 3 + ["피로의 원인은?"] * 17


def test_the_misses_are_seeded_and_spread_with_a_third_unsure():
    plan = miss_plan(STEMS, missed=6, seed=3)
    assert plan == miss_plan(STEMS, missed=6, seed=3)
    assert plan != miss_plan(STEMS, missed=6, seed=4)
    assert len(plan) == 6 and all(0 <= i < len(STEMS) for i in plan)
    assert list(plan.values()).count("unsure") == 2


def test_statute_misses_fall_on_statute_questions_as_far_as_there_are_some():
    for seed in range(5):
        plan = miss_plan(STEMS, missed=6, statute_misses=2, loaded=LOADED, seed=seed)
        assert len(plan) == 6
        assert sum(i < 3 for i in plan) >= 2
    everything = miss_plan(STEMS, missed=6, statute_misses=5, loaded=LOADED, seed=0)
    assert {0, 1, 2} <= set(everything) and len(everything) == 6
    # A session with no statute question still gets all its misses.
    assert len(miss_plan(STEMS[3:], missed=4, statute_misses=2, loaded=LOADED)) == 4


def test_the_report_holds_each_card_its_job_the_guard_and_what_is_shown(
    user, topic, fake_llm, monkeypatch
):
    monkeypatch.setattr(job_runner, "wake_consumer", lambda: None)
    make_document(user, topic, DOC, title="방호장치 노트")
    q(topic, 1)
    q(topic, 2, stem="가드가 열리면 기계를 멈추게 하는 장치의 이름은?")
    q(topic, 3, stem="피로의 원인은?", choice_2="수면 부족")
    fake_llm.reply_json(good())
    fake_llm.reply_json(good(answer=3, text="정답은 3번입니다."))
    session = answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"),
        lambda p, _qid: [1, 5, 2][p],
    )
    run_due_jobs()
    rows = question_rows(session, ["방호장치 노트"])
    assert [r["outcome"] for r in rows] == ["wrong", "unsure"]
    ready, refused = rows
    assert ready["card_passages"] and ready["evidence_sent"]
    assert (ready["job_status"], ready["state"]) == (JobStatus.COMPLETED, "ready")
    assert "인터록" in ready["shown"] and ready["latency_s"] is not None
    assert (refused["job_status"], refused["error_code"]) == (
        JobStatus.FAILED,
        JobError.GUARD_FAIL,
    )
    assert refused["guard_reason"] == GuardReason.ANSWER_NOT_KEY
    assert refused["state"] == "failed" and refused["reason"]
    assert refused["shown"] == "" and "정답은 3번" in refused["reply_preview"]
