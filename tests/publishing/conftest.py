import pytest

from tests.publishing.helpers import SECRET, Relay
from tests.publishing.viewer import FakeViewer


@pytest.fixture
def publishing_on(settings):
    settings.STUDY_PUBLISH_ENABLED = True
    settings.PUBLISH_SIGNING_SECRET = SECRET
    settings.PUBLISH_TIMEOUT_S = 0.5
    settings.PUBLISH_MAX_ATTEMPTS = 4
    settings.PUBLISH_VIEWER_URL = ""
    return settings


@pytest.fixture
def viewer(publishing_on):
    fake = FakeViewer(secret=SECRET, slow_s=1.0)
    fake.start()
    publishing_on.PUBLISH_VIEWER_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def relay():
    return Relay()


@pytest.fixture
def topic(user):
    """The publishing tests' topic is shared and marked for publishing."""
    from study.models import Topic

    return Topic.objects.create(
        name="산업안전기사", owner=user, is_shared=True, is_published=True
    )
