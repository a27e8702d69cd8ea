from django.contrib.auth import get_user_model
from django.core.management import call_command

from study.models import Question, Topic
from study.services.demo import DEMO_TOPIC_NAME, demo_setup


def test_demo_setup_creates_accounts_and_topic_once(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    first = demo_setup()
    assert first.created_accounts == [("demo", "demo"), ("admin", "admin")]
    topic = Topic.objects.get(name=DEMO_TOPIC_NAME)
    assert topic.is_shared
    questions = Question.objects.filter(topic=topic)
    assert questions.count() == 50
    assert questions.values("exam_year", "exam_session").distinct().count() == 3
    assert questions.values("subject").distinct().count() == 3
    assert first.report.rejected == []
    again = demo_setup()
    assert again.created_accounts == [] and again.report.unchanged == 50
    titles = sorted(topic.documents.values_list("title", flat=True))
    assert titles == [
        "산업안전보건기준에 관한 규칙",
        "산업안전보건법 시행규칙",
        "산업안전보건법 시행령",
    ]
    assert topic.documents.filter(status="ready").count() == 3
    User = get_user_model()
    assert User.objects.get(username="demo").check_password("demo")
    assert User.objects.get(username="admin").is_superuser


def test_no_demo_accounts_without_debug(db, settings):
    settings.DEBUG = False
    assert demo_setup().created_accounts == []
    assert not get_user_model().objects.exists()


def test_no_demo_accounts_on_a_database_with_users(user, settings):
    settings.DEBUG = True
    call_command("load_demo", verbosity=0)
    assert not get_user_model().objects.filter(username__in=["demo", "admin"]).exists()
