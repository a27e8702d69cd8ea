"""Question figures: what may be uploaded, re-encoded, and which type it is served as.

Only PNG, JPEG, GIF and WebP, recognised from the bytes (never the name), with a
pixel-count limit (a 12000×12000 image is a memory bomb in every reader's
browser), re-encoded so only pixel data survives, under a per-owner quota.
"""

from __future__ import annotations

import io
import uuid

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext
from PIL import Image, ImageSequence, UnidentifiedImageError

from study.db.locks import user_quota_lock
from study.models import Question

# Pillow format → (extension, content type)
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
MAX_FRAMES = 100


class FigureRejected(ValueError):
    """Not an acceptable figure; the message says why, in Korean."""


def figure_prepare(upload: File) -> ContentFile:
    """A clean copy of an uploaded figure, named by its real type."""
    if upload.size > settings.FIGURE_MAX_BYTES:
        mb = settings.FIGURE_MAX_BYTES // (1024 * 1024)
        raise FigureRejected(
            gettext("그림 파일이 너무 큽니다 (최대 %(mb)sMB).") % {"mb": mb}
        )
    upload.seek(0)
    image = _open(upload)
    _check_pixels(image)
    extension, _ = FORMATS[image.format or ""]
    data = _reencode(image)
    return ContentFile(data, name=f"{uuid.uuid4().hex}.{extension}")


def figure_content_type(field_file: FieldFile) -> str | None:
    """The type a stored figure really is (None: not an allowed image)."""
    try:
        with field_file.open("rb") as handle, Image.open(handle) as image:
            found = FORMATS.get(image.format or "")
            return found[1] if found else None
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None


def figure_quota_check(*, owner: User, incoming_bytes: int, lock: bool = False) -> None:
    """Figures of all the owner's topics together stay within FIGURE_QUOTA_BYTES.

    With `lock` (inside the transaction that stores the figure) the owner's
    figure lock is held until it ends: two uploads at once are counted one
    after the other, never both against the same free space."""
    if lock:
        user_quota_lock(user_id=owner.pk, quota="figures")
    used = figure_bytes_used(owner=owner)
    if used + incoming_bytes > settings.FIGURE_QUOTA_BYTES:
        quota = settings.FIGURE_QUOTA_BYTES // (1024 * 1024)
        raise FigureRejected(
            gettext(
                "그림 저장 한도(%(quota)sMB)를 넘습니다. 쓰지 않는 그림을 지운 "
                "뒤 다시 올려 주세요."
            )
            % {"quota": quota}
        )


def figure_is_new(value: object) -> bool:
    """An upload about to be stored (not the figure a question already has)."""
    return bool(value) and not getattr(value, "_committed", False)


def figure_bytes_used(*, owner: User) -> int:
    names = (
        Question.objects.filter(topic__owner=owner)
        .exclude(figure="")
        .values_list("figure", flat=True)
    )
    total = 0
    for name in names:
        try:
            total += default_storage.size(name)
        except OSError:  # a file gone from disk takes no space
            continue
    return total


def _open(upload: File) -> Image.Image:
    try:
        image = Image.open(upload, formats=list(FORMATS))
    except (UnidentifiedImageError, OSError) as exc:
        raise FigureRejected(
            gettext("그림은 PNG, JPEG, GIF, WebP 파일만 올릴 수 있습니다.")
        ) from exc
    except Image.DecompressionBombError as exc:
        raise FigureRejected(_too_many_pixels()) from exc
    return image


def _check_pixels(image: Image.Image) -> None:
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if width * height > settings.FIGURE_MAX_PIXELS or frames > MAX_FRAMES:
        raise FigureRejected(_too_many_pixels())


def _too_many_pixels() -> str:
    megapixels = settings.FIGURE_MAX_PIXELS / 1_000_000
    return gettext(
        "그림이 너무 큽니다 (최대 %(megapixels)s백만 화소, "
        "%(max_frames)s프레임). 크기를 줄여서 올려 주세요."
    ) % {"megapixels": f"{megapixels:g}", "max_frames": MAX_FRAMES}


def _reencode(image: Image.Image) -> bytes:
    """Pixels only: metadata, comments and anything after the image are dropped."""
    out = io.BytesIO()
    fmt = image.format
    try:
        if fmt in ("GIF", "WEBP") and getattr(image, "n_frames", 1) > 1:
            frames = [f.copy() for f in ImageSequence.Iterator(image)]
            frames[0].save(out, fmt, save_all=True, append_images=frames[1:])
        elif fmt == "JPEG":
            rgb = image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB")
            rgb.save(out, "JPEG", quality=90)
        else:
            image.save(out, fmt)
    except (OSError, ValueError, SyntaxError) as exc:
        raise FigureRejected(gettext("그림 파일이 손상되어 읽을 수 없습니다.")) from exc
    return out.getvalue()
