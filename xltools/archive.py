"""The archive: every file a district sent, kept by content, never overwritten, indexed in SQLite.

Layout of an archive folder (default ``~/.local/share/xltools/archive``, or ``$XLTOOLS_ARCHIVE``)::

    objects/ab/abcdef…          one read-only file per distinct content (sha256)
    index.sqlite                submissions (who sent what, when, which version) and runs

A re-submission is a new version of that region's file; a rollup records the exact inputs it used
(a *run*), so ``xltools consolidate --from-archive RUN`` can produce the same rollup again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, stored_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL REFERENCES objects(sha256),
    region TEXT, name TEXT NOT NULL, received TEXT NOT NULL, version INTEGER NOT NULL,
    UNIQUE (sha256, region));
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, created TEXT NOT NULL, city_sha256 TEXT NOT NULL, city_name TEXT NOT NULL,
    options TEXT NOT NULL, output_sha256 TEXT);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id TEXT NOT NULL REFERENCES runs(id), sha256 TEXT NOT NULL, name TEXT NOT NULL, region TEXT,
    version INTEGER, received TEXT NOT NULL, role TEXT NOT NULL);
"""


def default_root() -> Path:
    env = os.environ.get("XLTOOLS_ARCHIVE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or (Path.home() / ".local" / "share")
    return Path(base) / "xltools" / "archive"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Submission:
    sha256: str
    region: str | None
    name: str
    received: datetime
    version: int


@dataclass
class RunInput:
    sha256: str
    name: str
    region: str | None
    version: int | None
    received: datetime
    role: str  # city | district | superseded


@dataclass
class Run:
    id: str
    created: datetime
    city_sha256: str
    city_name: str
    options: dict
    inputs: list[RunInput]
    output_sha256: str | None = None


class Archive:
    """A content-addressed store of received files with an SQLite index."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else default_root()
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.root / "index.sqlite")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    def store(self, path: Path, sha256: str | None = None) -> str:
        """Copy a file in under its hash (once); the stored copy is read-only and never replaced."""
        sha256 = sha256 or sha256_of(path)
        target = self.object_path(sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{uuid.uuid4().hex}.tmp")
            shutil.copyfile(path, tmp)
            if sha256_of(tmp) != sha256:  # the file changed while we copied it
                tmp.unlink()
                raise OSError(f"{path} changed while being archived")
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO objects VALUES (?, ?, ?)",
                            (sha256, target.stat().st_size, datetime.now().isoformat(timespec="seconds")))
        return sha256

    def submit(self, path: Path, region: str | None, received: datetime, sha256: str | None = None,
               name: str | None = None) -> Submission:
        """Record that ``region`` sent this file; the same content twice is one submission."""
        sha256 = self.store(path, sha256)
        row = self.db.execute("SELECT sha256, region, name, received, version FROM submissions "
                              "WHERE sha256 = ? AND region IS ?", (sha256, region)).fetchone()
        if row:
            return _submission(row)
        with self.db:
            (count,) = self.db.execute("SELECT COUNT(*) FROM submissions WHERE region IS ?", (region,)).fetchone()
            self.db.execute("INSERT INTO submissions (sha256, region, name, received, version) VALUES (?, ?, ?, ?, ?)",
                            (sha256, region, name or path.name, received.isoformat(timespec="seconds"), count + 1))
        self._renumber(region)
        return self.submission(sha256, region)

    def _renumber(self, region: str | None) -> None:
        """Versions follow the time received, whatever order files were archived in."""
        rows = self.db.execute("SELECT id FROM submissions WHERE region IS ? ORDER BY received, id",
                               (region,)).fetchall()
        with self.db:
            for version, (id_,) in enumerate(rows, start=1):
                self.db.execute("UPDATE submissions SET version = ? WHERE id = ?", (version, id_))

    def submission(self, sha256: str, region: str | None) -> Submission:
        row = self.db.execute("SELECT sha256, region, name, received, version FROM submissions "
                              "WHERE sha256 = ? AND region IS ?", (sha256, region)).fetchone()
        return _submission(row)

    def versions(self, region: str | None) -> list[Submission]:
        rows = self.db.execute("SELECT sha256, region, name, received, version FROM submissions "
                               "WHERE region IS ? ORDER BY version", (region,)).fetchall()
        return [_submission(r) for r in rows]

    def record_run(self, created: datetime, city: RunInput, inputs: list[RunInput], options: dict,
                   output_sha256: str | None = None) -> str:
        run_id = created.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self.db:
            self.db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                            (run_id, created.isoformat(timespec="seconds"), city.sha256, city.name,
                             json.dumps(options, ensure_ascii=False, sort_keys=True), output_sha256))
            for item in [city, *inputs]:
                self.db.execute("INSERT INTO run_inputs VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (run_id, item.sha256, item.name, item.region, item.version,
                                 item.received.isoformat(timespec="seconds"), item.role))
        return run_id

    def set_output(self, run_id: str, output_sha256: str) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET output_sha256 = ? WHERE id = ?", (output_sha256, run_id))

    def run(self, run_id: str) -> Run | None:
        row = self.db.execute("SELECT id, created, city_sha256, city_name, options, output_sha256 FROM runs "
                              "WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        inputs = [RunInput(sha, name, region, version, datetime.fromisoformat(received), role)
                  for sha, name, region, version, received, role in self.db.execute(
                      "SELECT sha256, name, region, version, received, role FROM run_inputs WHERE run_id = ? "
                      "ORDER BY rowid", (run_id,))]
        return Run(row[0], datetime.fromisoformat(row[1]), row[2], row[3], json.loads(row[4]),
                   [i for i in inputs if i.role != "city"], row[5])

    def runs(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM runs ORDER BY created, id")]


def _submission(row) -> Submission:
    sha, region, name, received, version = row
    return Submission(sha, region, name, datetime.fromisoformat(received), version)
