"""Every command finds its topic by name the same way: one topic or a clear
error, never the first of several that share the name."""

import io

import pytest
from django.core.management import CommandError, call_command

from study.models import Topic
from study.selectors.topics import (
    TopicAmbiguous,
    TopicNotFound,
    topic_get_by_name,
)

# Each command that takes --topic, with what else it needs to reach the lookup.
COMMANDS = {
    "compute_related": {},
    "calibrate_related": {},
    "export_questions": {},
    "evidence": {"question": "2020-1-1"},
    "backfill_explanations": {},
    "evaluate_retrieval": {},
    "simulate_forecast": {},
    "republish": {},
    "import_questions": {"file": True},
    "add_documents": {"file": True},
}


def run(command: str, tmp_path, **options) -> None:
    extra = dict(COMMANDS[command])
    args = []
    if extra.pop("file", False):
        path = tmp_path / "notes.txt"
        path.write_text("내용", encoding="utf-8")
        args.append(str(path))
    call_command(
        command, *args, stdout=io.StringIO(), stderr=io.StringIO(), **extra, **options
    )


@pytest.fixture
def shared_name(settings, topic, other_user):
    """Two owners, one topic name; what commands need to get as far as the lookup."""
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # backfill checks it first
    settings.STUDY_PUBLISH_ENABLED = True  # republish checks it first
    Topic.objects.create(name=topic.name, owner=other_user)
    return topic.name


@pytest.mark.parametrize("command", COMMANDS)
def test_a_shared_name_asks_for_the_owner(command, shared_name, tmp_path):
    with pytest.raises(CommandError, match="여러 개입니다. --owner"):
        run(command, tmp_path, topic=shared_name)


@pytest.mark.parametrize(
    "command", [c for c, extra in COMMANDS.items() if "file" not in extra]
)
def test_an_unknown_name_is_an_error(command, shared_name, tmp_path):
    with pytest.raises(CommandError, match="토픽이 없습니다"):
        run(command, tmp_path, topic="없는 토픽")


def test_the_lookup_picks_by_owner_or_says_why_not(topic, other_user):
    theirs = Topic.objects.create(name=topic.name, owner=other_user)
    with pytest.raises(TopicAmbiguous):
        topic_get_by_name(name=topic.name)
    assert topic_get_by_name(name=topic.name, owner_username="other") == theirs
    assert topic_get_by_name(name=topic.name, owner_username="learner") == topic
    with pytest.raises(TopicNotFound):
        topic_get_by_name(name=topic.name, owner_username="nobody")
