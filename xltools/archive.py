"""The archive: every file a district sent, kept by content, never overwritten, indexed in SQLite.

Layout of an archive folder (default ``~/.local/share/xltools/archive``, or ``$XLTOOLS_ARCHIVE``)::

    objects/ab/abcdef…          one read-only file per distinct content (sha256)
    index.sqlite                submissions (who sent what, when, which version) and runs

A re-submission is a new version of that region's file; a rollup records the exact inputs it used
(a *run*), so ``xltools consolidate --from-archive RUN`` can produce the same rollup again.

A run is recorded (with its inputs, in one transaction) before its rollup is written, and is complete once
the rollup's sha256 is set after the write: a consolidation killed in between leaves an incomplete run whose
inputs are all archived, so it can still be rebuilt, and ``--list-runs`` shows it as 未完成. Every write
is a transaction or a rename, so a kill at any moment leaves the index and the objects consistent.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from .errors import OutputError, UnreadableInput

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, stored_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL REFERENCES objects(sha256),
    region TEXT, name TEXT NOT NULL, received TEXT NOT NULL, version INTEGER NOT NULL,
    UNIQUE (sha256, region));
CREATE INDEX IF NOT EXISTS submissions_by_region ON submissions (region, received, id);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, created TEXT NOT NULL, city_sha256 TEXT NOT NULL, city_name TEXT NOT NULL,
    options TEXT NOT NULL, output_sha256 TEXT);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id TEXT NOT NULL REFERENCES runs(id), sha256 TEXT NOT NULL, name TEXT NOT NULL, region TEXT,
    version INTEGER, received TEXT NOT NULL, role TEXT NOT NULL);
"""


DESK_SECRET = "desk_secret"  # in the archive folder: the key the desk's upload codes are made from
CITY_TOKEN = "市级"


def desk_secret(root: str | Path | None = None) -> bytes:
    """The archive's key for the desk's codes (made once, readable by its owner only)."""
    folder = Path(root) if root else default_root()
    path = folder / DESK_SECRET
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        import secrets

        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip().encode()


def upload_code(secret: bytes, region: str) -> str:
    """A district's upload code for the desk over this archive: 8 characters, the same every time."""
    import hmac

    return hmac.new(secret, region.encode(), hashlib.sha256).hexdigest()[:8].upper()


def city_token(secret: bytes) -> str:
    import hmac

    return hmac.new(secret, CITY_TOKEN.encode(), hashlib.sha256).hexdigest()[:16]


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

    @property
    def complete(self) -> bool:
        """Whether its rollup was written (and its sha256 recorded)."""
        return self.output_sha256 is not None


INDEX = "index.sqlite"
LOCK_WAIT = 30  # seconds to wait for another consolidation writing to the same archive


class Archive:
    """A content-addressed store of received files with an SQLite index.

    ``create=False`` opens an existing archive only (to list or rebuild runs): a missing one is an
    ``UnreadableInput`` and nothing is created; it need not be writable. Otherwise the archive is made when
    missing and must be writable (``OutputError``, in Chinese, when it is not).
    """

    def __init__(self, root: str | Path | None = None, *, create: bool = True):
        self.root = Path(root) if root else default_root()
        self.db = None
        self._batched = False
        index = self.root / INDEX
        if not create:
            if not index.is_file():
                raise UnreadableInput(
                    f"no archive at {self.root} ({INDEX} not found)",
                    f"找不到归档：{self.root}（其中没有归档索引 {INDEX}）。"
                    "请用 --archive 指定汇总时所用的归档文件夹")
            with self._failing("open"):
                # mode=rw never creates the file, and opens a write-protected one read-only.
                self.db = sqlite3.connect(f"file:{quote(str(index.resolve()))}?mode=rw", uri=True,
                                          timeout=LOCK_WAIT)
                self.db.execute("SELECT COUNT(*) FROM runs").fetchone()
            return
        with self._writing("open"):
            (self.root / "objects").mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(index, timeout=LOCK_WAIT)
            self.db.executescript(SCHEMA)
            # Found out now rather than after every file has been read: a read-only index accepts
            # reads, and refuses the first write.
            with self.db:
                self.db.execute("UPDATE runs SET id = id WHERE 0")
            if not os.access(self.root / "objects", os.W_OK):
                raise PermissionError(errno.EACCES, "not writable", str(self.root / "objects"))

    @contextmanager
    def batch(self):
        """Submissions in one transaction: one commit (and its fsyncs) for a consolidation's files instead of
        three a file (3,000 new files: 6.9 s). Killed part way, none of them is recorded; the copies already
        made stay in ``objects`` unlisted, and the next run lists them (``store`` copies a file once)."""
        with self._writing(), self.db:
            self._batched = True
            try:
                yield self
            finally:
                self._batched = False

    @contextmanager
    def _transaction(self):
        """A write: committed now, or with the batch it is part of."""
        with self._writing():
            if self._batched:
                yield
            else:
                with self.db:
                    yield

    @contextmanager
    def _writing(self, opening: str = ""):
        with self._failing("write", close=bool(opening)):
            yield

    @contextmanager
    def _failing(self, doing: str, close: bool = False):
        """sqlite and file-system failures of the archive itself, as errors the clerk can act on; ``close``:
        while opening, so the connection is closed on failure."""
        try:
            yield
        except (sqlite3.Error, OSError) as err:
            if (close or doing == "open") and self.db is not None:
                self.db.close()
                self.db = None
            detail = (err.strerror if isinstance(err, OSError) else None) or str(err)
            raise self._error(err, doing, detail) from err

    def _error(self, err: Exception, doing: str, detail: str):
        where = f"{self.root}"
        text = detail.lower()
        log = f"archive {where}: cannot {doing}: {err}"
        if "locked" in text or "busy" in text:
            return OutputError(log, f"归档正被另一个汇总任务使用：{where}。请等它完成后重试")
        if "not a database" in text or "malformed" in text or "no such table" in text:
            return UnreadableInput(log, f"归档索引已损坏或不是 xltools 的归档：{where}{os.sep}{INDEX}。"
                                        "请联系维护人员")
        if getattr(err, "errno", None) == errno.ENOSPC or "disk is full" in text:
            return OutputError(log, f"磁盘空间不足，无法写入归档：{where}")
        if doing == "open":
            return UnreadableInput(log, f"无法打开归档：{where}")
        return OutputError(
            log, f"归档文件夹无法写入：{where}（只读、没有写权限，或该位置不是文件夹）。"
                 "请改正其权限，或用 --archive 另选归档文件夹（--no-archive 不归档）")

    def close(self) -> None:
        if self.db is not None:
            self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    def store(self, path: Path, sha256: str | None = None) -> str:
        """Copy a file in under its hash (once); the stored copy is read-only and never replaced."""
        from .xlio import TEMP_PREFIX, remove_stale_temporaries

        sha256 = sha256 or sha256_of(path)
        target = self.object_path(sha256)
        if not target.exists():
            # Opened first: a submission that cannot be read is not the archive's failure.
            with open(path, "rb") as source, self._writing():
                target.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_temporaries(target.parent)  # a copy a killed run left half made
                # Named as xlio names its temporaries (with the process id), so that the next store can tell
                # a killed run's copy from a live one's.
                tmp = target.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.tmp")
                try:
                    digest = hashlib.sha256()  # of the bytes copied, as they are copied
                    with open(tmp, "wb") as copy:
                        while block := source.read(1 << 20):
                            digest.update(block)
                            copy.write(block)
                    copied = digest.hexdigest()
                    if copied == sha256:
                        os.chmod(tmp, 0o444)
                        os.replace(tmp, target)
                finally:
                    if tmp.exists():
                        tmp.unlink()
            if copied != sha256:  # the file changed while we copied it
                raise UnreadableInput(f"{path} changed while being archived",
                                      f"文件“{path.name}”在归档时被修改，请等文件保存完毕后重试")
        with self._transaction():
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
        with self._transaction():
            (count,) = self.db.execute("SELECT COUNT(*) FROM submissions WHERE region IS ?", (region,)).fetchone()
            self.db.execute("INSERT INTO submissions (sha256, region, name, received, version) VALUES (?, ?, ?, ?, ?)",
                            (sha256, region, name or path.name, received.isoformat(timespec="seconds"), count + 1))
        self._renumber(region)
        return self.submission(sha256, region)

    def _renumber(self, region: str | None) -> None:
        """Versions follow the time received, whatever order files were archived in."""
        rows = self.db.execute("SELECT id FROM submissions WHERE region IS ? ORDER BY received, id",
                               (region,)).fetchall()
        with self._transaction():
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

    def submissions(self) -> list[Submission]:
        """Every submission: by region (files of no known region last), each region's by version."""
        rows = self.db.execute("SELECT sha256, region, name, received, version FROM submissions "
                               "ORDER BY region IS NULL, region, version").fetchall()
        return [_submission(r) for r in rows]

    def record_run(self, created: datetime, city: RunInput, inputs: list[RunInput], options: dict,
                   output_sha256: str | None = None) -> str:
        """Record a run and its inputs in one transaction; it is complete once ``output_sha256`` is set."""
        run_id = created.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self._transaction():
            self.db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                            (run_id, created.isoformat(timespec="seconds"), city.sha256, city.name,
                             json.dumps(options, ensure_ascii=False, sort_keys=True), output_sha256))
            for item in [city, *inputs]:
                self.db.execute("INSERT INTO run_inputs VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (run_id, item.sha256, item.name, item.region, item.version,
                                 item.received.isoformat(timespec="seconds"), item.role))
        return run_id

    def set_output(self, run_id: str, output_sha256: str) -> None:
        """Mark a run complete: its rollup has been written, with this content."""
        with self._transaction():
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

    def runs(self, complete: bool | None = None) -> list[str]:
        """Run ids, oldest first; ``complete=True``: those whose rollup was written, ``False``: the others."""
        where = {None: "", True: " WHERE output_sha256 IS NOT NULL", False: " WHERE output_sha256 IS NULL"}
        return [r[0] for r in self.db.execute(f"SELECT id FROM runs{where[complete]} ORDER BY created, id")]


def _submission(row) -> Submission:
    sha, region, name, received, version = row
    return Submission(sha, region, name, datetime.fromisoformat(received), version)
