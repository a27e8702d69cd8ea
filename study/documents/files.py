"""Which files a folder of study documents gives, and in which order to load
them (the add_documents command and the ingest benchmark)."""

from __future__ import annotations

from pathlib import Path

from study.documents.chunking import split_front_matter
from study.documents.versions import act_version

FILE_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")


def document_files(paths: list[Path]) -> list[Path]:
    """Files as given; a folder gives its documents (subfolders too, README
    files left out), in name order: a history folder's versions by date."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in FILE_SUFFIXES
                    and not p.name.upper().startswith("README")
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(str(path))
    return files


def newest_versions_first(files: list[Path]) -> list[Path]:
    """Versions of one act newest first (by the front matter's 시행일자 and
    공포번호), so the version in force is processed before the older ones,
    which then are stored without being embedded; other files as given."""
    keyed: list[tuple[tuple, Path]] = []
    for index, path in enumerate(files):
        version = None
        if path.suffix.lower() != ".pdf":
            text = path.read_bytes().decode("utf-8", "ignore").replace("\r\n", "\n")
            meta, _ = split_front_matter(text)
            version = act_version(meta.fields, title=meta.title)
        if version is None:
            keyed.append(((1, index), path))
        else:
            effective, number = version.order
            keyed.append(((0, version.act, -effective.toordinal(), -number), path))
    return [path for _, path in sorted(keyed, key=lambda item: item[0])]
