"""Backup and restore for the operator: the database (pg_dump's custom format)
and the uploaded files (MEDIA_ROOT: figures, documents) in one .tar.

The dump is taken first and the files after it: files are only ever added
under new names, so every file a dumped row names is in the archive. Works
for the embedded server (its own pg_dump) and an external PostgreSQL
(pg_dump/pg_restore from PATH or PG_BIN_DIR, of the server's major version or
newer). See README, "Backup".
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from psycopg import sql
from psycopg.conninfo import make_conninfo

MANIFEST = "gichul-backup.json"
DUMP = "database.dump"
MEDIA = "media"
FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """What went wrong, said for the operator (a missing tool, a bad archive)."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    database_bytes: int
    media_files: int
    media_bytes: int


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: PG_BIN_DIR, else the embedded server's own
    binaries (no DATABASE_URL), else PATH."""
    candidates = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]) / name)
    if not os.environ.get("DATABASE_URL"):
        spec = importlib.util.find_spec("pgserver")
        if spec and spec.submodule_search_locations:
            base = Path(next(iter(spec.submodule_search_locations)))
            candidates.append(base / "pginstall" / "bin" / name)
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(
        f"{name} not found: install the PostgreSQL client tools of the server's "
        "major version (or newer) or set PG_BIN_DIR"
    )


def connection_env(database: dict) -> dict[str, str]:
    """libpq's environment for a Django DATABASES entry (no password on argv)."""
    env = {**os.environ, "PGDATABASE": database["NAME"]}
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if database.get(key):
            env[var] = str(database[key])
    return env


def default_backup_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BASE_DIR) / "var" / "backups" / f"gichul-{stamp}.tar"


def backup_write(*, out: Path | None = None) -> BackupSummary:
    """Dump the database, then add the uploaded files, into one .tar."""
    out = out or default_backup_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    database = settings.DATABASES["default"]
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="gichul-backup-") as tmp:
        dump = Path(tmp) / DUMP
        _run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={dump}",
            ],
            env=connection_env(database),
        )
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            files, size = _add_media(archive, media_root)
            manifest = _manifest(database, files, size)
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(dump, arcname=DUMP)
        partial.replace(out)  # a backup that exists is a whole one
        return BackupSummary(out, dump.stat().st_size, files, size)


def _add_media(archive: tarfile.TarFile, media_root: Path) -> tuple[int, int]:
    files = size = 0
    if not media_root.is_dir():
        return files, size
    for path in sorted(media_root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            archive.add(path, arcname=f"{MEDIA}/{path.relative_to(media_root)}")
            files += 1
            size += path.stat().st_size
    return files, size


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def _manifest(database: dict, files: int, size: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), datcollate, datctype "
            "FROM pg_database WHERE datname = current_database()"
        )
        server_version, collate, ctype = cursor.fetchone()
    recorder = MigrationRecorder(connection)
    latest = None
    if recorder.has_table():  # an empty database has no migrations yet
        latest = (
            recorder.migration_qs.filter(app="study")
            .order_by("-id")
            .values_list("name", flat=True)
            .first()
        )
    return {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "database": database["NAME"],
        "server_version": server_version,
        "collate": collate,
        "ctype": ctype,
        "study_migration": latest,
        "media_files": files,
        "media_bytes": size,
    }


def backup_read_manifest(archive_path: Path) -> dict:
    try:
        with tarfile.open(archive_path, "r") as archive:
            member = archive.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member else None
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"{archive_path} is not a Gichul backup: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{archive_path} is not a Gichul backup (no manifest)")
    return manifest


def backup_restore(
    *, archive_path: Path, database: dict, media_root: Path, create: bool = False
) -> dict:
    """Restore the database into `database` (replacing what it holds, in one
    transaction) and the files into `media_root` (added or overwritten)."""
    manifest = backup_read_manifest(archive_path)
    if create:
        _create_database(database, manifest)
    with tempfile.TemporaryDirectory(prefix="gichul-restore-") as tmp:
        with tarfile.open(archive_path, "r") as archive:
            archive.extractall(tmp, filter="data")  # no paths outside tmp
        _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={database['NAME']}",
                str(Path(tmp) / DUMP),
            ],
            env=connection_env(database),
        )
        _copy_media(Path(tmp) / MEDIA, media_root)
    return manifest


def _create_database(database: dict, manifest: dict) -> None:
    env = connection_env({**database, "NAME": "postgres"})
    params = {
        "dbname": "postgres",
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER"),
        "password": env.get("PGPASSWORD"),
    }
    name = database["NAME"]
    conninfo = make_conninfo("", **{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists:
            return
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} ENCODING 'UTF8' LC_COLLATE {} LC_CTYPE {} "
                "TEMPLATE template0"
            ).format(
                sql.Identifier(name),
                sql.Literal(manifest.get("collate") or "C.UTF-8"),
                sql.Literal(manifest.get("ctype") or "C.UTF-8"),
            )
        )


def _copy_media(source: Path, media_root: Path) -> None:
    if not source.is_dir():
        return
    media_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, media_root, dirs_exist_ok=True)


def _run(command: list[str], *, env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-2000:]}")
