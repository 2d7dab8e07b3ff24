"""Engines, sessions and the schema's lifecycle.

Nothing is created at import time: callers make an engine with
:func:`open_store` (which also brings the schema to the newest migration) and
own their sessions and transactions (:func:`session_scope`).
"""

from __future__ import annotations

import functools
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from engine import defaults
from engine.errors import UserError, describe_store_fault

SUPPORTED_BACKENDS = ("sqlite", "postgresql")

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    """The URL to use: the explicit one, else ``PERSONALIZE_DATABASE_URL``, else embedded SQLite."""
    if url:
        return url
    if not defaults.environment_sets("database_url", "data_dir"):
        return defaults.embedded_url(defaults.data_dir())  # without loading pydantic
    from engine.config import get_settings

    return get_settings().resolved_database_url


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _unreadable(url)


def _unreadable(url: str) -> str:
    """What may be said of a URL that cannot be parsed: its scheme, never the rest
    (a mistyped URL still holds its password)."""
    scheme = url.split(":", 1)[0].split("/", 1)[0][:30]
    return f"<unreadable URL starting {scheme!r}>" if scheme else "<unreadable URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite would open a transaction only at the first write, after the reads it
    # depends on; we emit BEGIN ourselves instead (_sqlite_begin), so a writer can take
    # the write lock before it reads.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while `track` writes; NORMAL is durable enough with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Open SQLite transactions explicitly: ``BEGIN IMMEDIATE`` (the write lock, waiting
    up to the busy timeout) for :func:`write_scope`, a deferred ``BEGIN`` otherwise."""
    immediate = connection.get_execution_options().get(WRITE_LOCK, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (see :func:`resolve_url`), with sane per-backend settings.

    Raises:
        UserError: the URL is malformed or names a driver that is not installed.
    """
    url = resolve_url(url)
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port like "abc" only fails when read
    except (ArgumentError, ValueError) as exc:
        raise UserError(
            f"invalid database URL {_unreadable(url)}: expected e.g. sqlite:///path/store.db "
            "or postgresql+psycopg://user:password@host:5432/dbname"
        ) from exc
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise UserError(
            f"unsupported database {parsed.get_backend_name()!r} in {mask_url(url)}: "
            f"supported: {', '.join(SUPPORTED_BACKENDS)}"
        )
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise UserError(f"unsupported database URL {mask_url(url)!r}: {exc}") from exc
    return engine


def upgrade_schema(engine: Engine) -> None:
    """Bring the store's schema to the newest Alembic revision, in place."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_store(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """Connect to the store at ``url`` and make sure its schema is current.

    Raises:
        UserError: the URL is invalid or the database cannot be reached.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = _current_revision(connection)
        if upgrade and current != head_revision():
            upgrade_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        known = describe_store_fault(exc)
        if known is not None:
            raise UserError(f"cannot open the store {where}: {known}") from exc
        if not isinstance(exc, OperationalError):
            raise
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        detail = _without_secrets(reason, engine)
        raise UserError(f"cannot open database {where}: {detail}") from exc
    except (ValueError, UnicodeError) as exc:
        # psycopg refuses some host spellings (a malformed IPv6 address) with ValueError.
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise UserError(f"cannot open database {where}: the host or port cannot be read") from exc
    return engine


def _without_secrets(reason: str, engine: Engine) -> str:
    password = engine.url.password
    return reason.replace(str(password), "***") if password else reason


@functools.cache
def head_revision() -> str:
    """The newest migration's revision id, read from the files (importing Alembic costs
    most of a second, and a store already at head does not need it)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in MIGRATIONS_DIR.joinpath("versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = re.search(r'^revision\s*=\s*"([^"]+)"', text, re.MULTILINE)
        parent = re.search(r'^down_revision\s*=\s*"([^"]+)"', text, re.MULTILINE)
        if found:
            revisions.add(found.group(1))
        if parent:
            parents.add(parent.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


_MADE_LOCK = threading.Lock()


def _made_once(engine: Engine, name: str, make: Callable[[], T]) -> T:
    """``make()``, kept on ``engine`` under ``name`` (collected with the engine)."""
    with _MADE_LOCK:
        if name not in engine.__dict__:
            engine.__dict__[name] = make()
        made: T = engine.__dict__[name]
        return made


def sessionmaker_for(engine: Engine) -> sessionmaker[Session]:
    """The session factory of ``engine``, made once per engine (a new factory is a new
    Session subclass whose event set-up costs more than a small transaction)."""
    return _made_once(
        engine, "_personalize_sessionmaker", lambda: sessionmaker(engine, expire_on_commit=False)
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    with sessionmaker_for(engine)() as session, session.begin():
        yield session


# --------------------------------------------------------------------------- writers

WRITE_LOCK = "personalize_write_lock"
"""Execution option: this transaction writes what it reads (see :func:`write_scope`)."""

WRITE_ATTEMPTS = 6
"""How often :func:`run_write` runs a transaction that lost a race before giving up."""

_BACKOFF_SECONDS = 0.05

_RACE_WORDS = (
    "database is locked",
    "deadlock",
    "could not serialize",
    "duplicate key",
    "unique constraint",
    "uniqueviolation",
)


def is_a_race(exc: BaseException) -> bool:
    """A unique-key clash, a deadlock, a serialization failure or a lock held too long:
    what concurrent writers of the same rows run into, and what rerunning the whole
    transaction resolves. (PostgreSQL's COPY path raises the driver's own
    ``UniqueViolation``, which SQLAlchemy does not wrap, hence the words as well.)"""
    if isinstance(exc, IntegrityError | OperationalError) or type(exc).__name__ in (
        "UniqueViolation",
        "DeadlockDetected",
        "SerializationFailure",
        "IntegrityError",
    ):
        text = f"{type(exc).__name__} {getattr(exc, 'orig', None) or exc}".lower()
        return isinstance(exc, IntegrityError) or any(word in text for word in _RACE_WORDS)
    return False


def writer(engine: Engine) -> Engine:
    """``engine`` whose transactions take the write lock when they begin (SQLite's
    ``BEGIN IMMEDIATE``; PostgreSQL locks rows as they are read ``FOR UPDATE``); one per
    engine, so its sessions share one factory."""
    return _made_once(
        engine, "_personalize_writer", lambda: engine.execution_options(**{WRITE_LOCK: True})
    )


@contextmanager
def write_scope(engine: Engine) -> Iterator[Session]:
    """A session for a read-then-write transaction: commits on success, rolls back on
    any error. On SQLite it holds the write lock from its first statement, so what it
    read cannot change before it writes (a deferred transaction would read a snapshot
    another writer then invalidates: a lost update, or "database is locked")."""
    with sessionmaker_for(writer(engine))() as session, session.begin():
        yield session


def run_write(engine: Engine, work: Callable[[Session], T], *, attempts: int = WRITE_ATTEMPTS) -> T:
    """Run ``work(session)`` in a :func:`write_scope` transaction; when it loses a race
    (:func:`is_a_race`) the transaction rolled back whole, so run it again after a
    randomised exponential backoff, at most ``attempts`` times."""
    for attempt in range(attempts):
        try:
            with write_scope(engine) as session:
                return work(session)
        except Exception as exc:  # noqa: BLE001 - only races are retried, the rest re-raised
            if attempt == attempts - 1 or not is_a_race(exc):
                raise
            time.sleep(_BACKOFF_SECONDS * (2**attempt) * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- WAL checkpoints


class _Checkpointer(threading.Thread):
    """Checkpoints one SQLite file's write-ahead log in the background.

    SQLite's default checkpoints run inside whichever commit pushes the log past
    1,000 pages, so one write in ~60 pays tens of milliseconds; real-time writers
    turn that off on their connections (:func:`checkpoint_in_background`) and this
    thread does a PASSIVE checkpoint (which never blocks readers or writers) a few
    times a second instead. It stops when the file is gone or after a quiet minute.
    """

    INTERVAL_S = 0.25
    IDLE_STOP_S = 60.0

    def __init__(self, path: str) -> None:
        super().__init__(name=f"wal-checkpoint {path}", daemon=True)
        self.path = path

    def run(self) -> None:
        idle, previous = 0.0, None
        try:
            connection = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            try:
                while idle < self.IDLE_STOP_S and Path(self.path).exists():
                    threading.Event().wait(self.INTERVAL_S)
                    # (busy, frames in the log, frames checkpointed)
                    state = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    idle = idle + self.INTERVAL_S if state == previous else 0.0
                    previous = state
            finally:
                connection.close()
        except sqlite3.Error:
            pass  # the file went away or cannot be opened: writers checkpoint as usual
        finally:
            with _CHECKPOINTERS_LOCK:
                _CHECKPOINTERS.pop(self.path, None)


_CHECKPOINTERS: dict[str, _Checkpointer] = {}
_CHECKPOINTERS_LOCK = threading.Lock()


def checkpoint_in_background(connection: Connection) -> None:
    """Keep WAL checkpoints off this SQLite connection's commits (no-op elsewhere).

    Turns off the connection's automatic checkpoints and makes sure a
    :class:`_Checkpointer` runs for its file in this process. Connections that
    never call this keep SQLite's automatic checkpoints, so the log cannot grow
    without bound whatever happens to the thread.
    """
    if connection.dialect.name != "sqlite":
        return
    path = connection.engine.url.database
    if not path or path == ":memory:":
        return
    if not connection.info.get("background_checkpoints"):
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        connection.info["background_checkpoints"] = True
    with _CHECKPOINTERS_LOCK:
        if path not in _CHECKPOINTERS:
            _CHECKPOINTERS[path] = _Checkpointer(path)
            _CHECKPOINTERS[path].start()
