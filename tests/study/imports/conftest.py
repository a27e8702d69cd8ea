import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path_factory):
    """Uploaded question files go to a temporary storage."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT
