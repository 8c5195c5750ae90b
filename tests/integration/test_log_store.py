"""The log store and sequencer on SQLite and PostgreSQL: atomicity, batching, no forks."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from audit.core.entry import parse_entry
from audit.core.errors import EntryRejected
from audit.core.merkle import mth
from audit.services.models import LogEntry
from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog, LogStore, Work, WorkItem, insert_new
from kernel.accounts.models import District
from kernel.keys import load_authority_key
from kernel.settings import Settings
from veche.kinds import entry_kinds
from veche.setup import initialize

KINDS = entry_kinds()


@pytest.fixture(name="engine")
def fx_engine(settings: Settings) -> Iterator[Engine]:
    engine = initialize(settings)
    yield engine
    engine.dispose()


@pytest.fixture(name="store")
def fx_store(engine: Engine, settings: Settings) -> LogStore:
    return LogStore(engine, load_authority_key(settings.keys_dir), settings.origin, KINDS)


def notice(n: int) -> dict[str, str]:
    return {"title": f"notice {n}", "text": "text", "lang": "en"}


def check_chain(store: LogStore) -> list[bytes]:
    with store.read_sessions() as db:
        size = store.size(db)
        lines = store.entries(db, 0, size)
        root = store.root(db, size)
        latest = store.latest_checkpoint(db)
    leaves = []
    for seq, line in enumerate(lines):
        entry = parse_entry(line, KINDS)
        assert entry.seq == seq
        assert entry.prev == (leaves[-1].hex() if leaves else "0" * 64)
        leaves.append(hashlib.sha256(b"\x00" + line).digest())
    assert mth(leaves) == root
    assert latest is not None and latest.size == size and latest.root == root
    return lines


def test_change_and_entry_are_atomic(store: LogStore) -> None:
    def good(db: Session, log: BatchLog) -> str:
        db.add(District(code="east", name="East"))
        log.append("notice.published", notice(1))
        return "done"

    def bad_after_change(db: Session, log: BatchLog) -> None:
        db.add(District(code="west", name="West"))
        log.append("notice.published", notice(2))
        raise RuntimeError("the domain refused")

    def bad_body(db: Session, log: BatchLog) -> None:
        db.add(District(code="south", name="South"))
        log.append("notice.published", {"title": "", "text": "x", "lang": "en"})

    committed = store.append_now(good)
    assert committed.result == "done"
    assert [e.seq for e in committed.entries] == [1]
    with pytest.raises(RuntimeError):
        store.append_now(bad_after_change)
    with pytest.raises(EntryRejected):
        store.append_now(bad_body)
    with store.read_sessions() as db:
        codes = set(db.scalars(select(District.code)))
    assert codes == {"east"}
    lines = check_chain(store)
    assert len(lines) == 2


def test_a_failing_item_does_not_sink_its_batch(store: LogStore) -> None:
    def ok(n: int) -> Work[int]:
        def work(db: Session, log: BatchLog) -> int:
            return log.append("notice.published", notice(n)).seq

        return work

    def fails(db: Session, log: BatchLog) -> None:
        log.append("notice.published", notice(99))
        raise ValueError("no")

    items = [WorkItem(ok(1)), WorkItem(fails), WorkItem(ok(2)), WorkItem(ok(3))]
    store.run_batch(items)
    assert [items[i].future.result().result for i in (0, 2, 3)] == [1, 2, 3]
    with pytest.raises(ValueError):
        items[1].future.result()
    # One checkpoint for the whole batch.
    checkpoints = {items[i].future.result().checkpoint.size for i in (0, 2, 3)}
    assert checkpoints == {4}
    check_chain(store)


DISTRICT = District.__table__


def test_narrow_items_write_one_row_or_nothing(store: LogStore) -> None:
    """Items without a savepoint: a duplicate writes nothing and its entry is dropped,
    the rest of the batch commits, and the chain has no gap."""

    def add(code: str) -> Work[int]:
        def work(db: Session, log: BatchLog) -> int:
            appended = log.append("notice.published", notice(len(code)))
            if not insert_new(db, DISTRICT, {"code": code, "name": code.title()}, ("code",)):
                raise KeyError(code)
            return appended.seq

        return work

    items = [
        WorkItem(add("north"), savepoint=False),
        WorkItem(add("north"), savepoint=False),  # the same key in the same batch
        WorkItem(add("east"), savepoint=False),
    ]
    store.run_batch(items)
    assert items[0].future.result().result == 1
    assert items[2].future.result().result == 2  # the refused item's seq was reused
    with pytest.raises(KeyError):
        items[1].future.result()
    again = WorkItem(add("east"), savepoint=False)  # a key committed by an earlier batch
    store.run_batch([again])
    with pytest.raises(KeyError):
        again.future.result()
    with store.read_sessions() as db:
        assert set(db.scalars(select(District.code))) == {"north", "east"}
    assert len(check_chain(store)) == 3


def test_insert_new_refuses_a_column_the_table_lacks(store: LogStore) -> None:
    def work(db: Session, log: BatchLog) -> None:
        insert_new(db, DISTRICT, {"code": "x", "title": "X"}, ("code",))

    with pytest.raises(KeyError, match="title"):
        store.append_now(work)


def test_the_memo_is_emptied_after_every_savepoint_item(store: LogStore) -> None:
    """A narrow item's memoized read never outlives a write that could change it."""
    seen: list[str | None] = []

    def read_name(db: Session, log: BatchLog) -> None:
        if "name" not in log.memo:
            log.memo["name"] = db.scalar(select(District.name).where(District.code == "west"))
        seen.append(log.memo["name"])

    def rename(db: Session, log: BatchLog) -> None:
        district = db.get(District, "west")
        assert district is not None
        district.name = "Far West"
        log.append("notice.published", notice(1))

    store.append_now(lambda db, log: db.add(District(code="west", name="West")))
    items = [
        WorkItem(read_name, savepoint=False),
        WorkItem(read_name, savepoint=False),
        WorkItem(rename),
        WorkItem(read_name, savepoint=False),
    ]
    store.run_batch(items)
    assert seen == ["West", "West", "Far West"]


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_waiting_store_wakes_when_the_file_lock_is_released(
    store: LogStore, engine: Engine, settings: Settings
) -> None:
    """SQLite: batches of two stores (as of two processes) on one file are serialized
    by the lock beside the database; the second runs as soon as the first lets go."""
    other = LogStore(engine, load_authority_key(settings.keys_dir), settings.origin, KINDS)
    done = threading.Event()

    def append() -> None:
        other.append_now(lambda db, log: log.append("notice.published", notice(7)))
        done.set()

    with store._file_lock:
        thread = threading.Thread(target=append)
        thread.start()
        assert not done.wait(0.5)  # blocked behind the lock, not failing
    assert done.wait(30)
    thread.join()
    assert len(check_chain(store)) == 2


@pytest.mark.parametrize("engine_name", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_on_postgresql_no_file_lock_is_taken(store: LogStore, settings: Settings) -> None:
    """PostgreSQL serializes batches on the log's head row: no lock file beside anything."""
    store.append_now(lambda db, log: log.append("notice.published", notice(1)))
    assert store._file_lock._fd is None
    assert [p.name for p in settings.data_dir.rglob("*lock*")] == []
    assert len(check_chain(store)) == 2


def test_concurrent_appends_never_fork(store: LogStore) -> None:
    sequencer = Sequencer(store)
    results: list[int] = []
    lock = threading.Lock()

    def writer(worker: int) -> None:
        for n in range(25):

            def work(db: Session, log: BatchLog, n: int = n) -> int:
                return log.append("notice.published", notice(worker * 1000 + n)).seq

            seq = sequencer.run(work).result
            with lock:
                results.append(seq)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sequencer.stop()
    assert sorted(results) == list(range(1, 401))
    lines = check_chain(store)
    titles = [parse_entry(line, KINDS).body.title for line in lines[1:]]  # type: ignore[attr-defined]
    assert len(set(titles)) == 400
    # Group commit: far fewer batches than appends.
    assert sequencer.batches < 400


def test_two_stores_on_one_database_share_one_chain(engine: Engine, settings: Settings) -> None:
    """Two processes' stores (each with its cached head) interleave without forking."""
    key = load_authority_key(settings.keys_dir)
    first = LogStore(engine, key, settings.origin, KINDS)
    second = LogStore(engine, key, settings.origin, KINDS)
    for n in range(10):
        store = first if n % 3 else second
        store.append_now(lambda db, log, n=n: log.append("notice.published", notice(n)))
    with first.read_sessions() as db:
        assert db.execute(select(func.count()).select_from(LogEntry)).scalar() == 11
    check_chain(first)


def test_genesis_is_written_once(store: LogStore) -> None:
    store.ensure_genesis()
    store.ensure_genesis()
    lines = check_chain(store)
    assert len(lines) == 1
    assert parse_entry(lines[0], KINDS).kind == "log.genesis"


def test_servers_starting_together_write_one_genesis(settings: Settings) -> None:
    """Two processes initialising one fresh database at once: one head, one genesis."""
    from kernel import db as database
    from kernel.keys import load_or_create_authority_key
    from veche import schema

    engine = database.make_engine(settings)
    schema.migrate(engine)
    key, _created = load_or_create_authority_key(settings.keys_dir)
    stores = [LogStore(engine, key, settings.origin, KINDS) for _ in range(4)]
    errors: list[BaseException] = []

    def start(store: LogStore) -> None:
        try:
            store.ensure_genesis()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(check_chain(stores[0])) == 1
    engine.dispose()
