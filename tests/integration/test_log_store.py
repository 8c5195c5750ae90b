"""The log store and sequencer on SQLite and PostgreSQL: atomicity, batching, no forks."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from audit.entry import parse_entry
from audit.errors import EntryRejected
from audit.merkle import mth
from audit.models import LogEntry
from audit.store import BatchLog, LogStore, Sequencer, Work, _Item
from veche.accounts.models import District
from veche.keys import load_authority_key
from veche.settings import Settings
from veche.setup import initialize


@pytest.fixture(name="engine")
def fx_engine(settings: Settings) -> Iterator[Engine]:
    engine = initialize(settings)
    yield engine
    engine.dispose()


@pytest.fixture(name="store")
def fx_store(engine: Engine, settings: Settings) -> LogStore:
    return LogStore(engine, load_authority_key(settings.keys_dir), settings.origin)


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
        entry = parse_entry(line)
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

    items = [_Item(ok(1)), _Item(fails), _Item(ok(2)), _Item(ok(3))]
    store.run_batch(items)
    assert [items[i].future.result().result for i in (0, 2, 3)] == [1, 2, 3]
    with pytest.raises(ValueError):
        items[1].future.result()
    # One checkpoint for the whole batch.
    checkpoints = {items[i].future.result().checkpoint.size for i in (0, 2, 3)}
    assert checkpoints == {4}
    check_chain(store)


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
    titles = [parse_entry(line).body.title for line in lines[1:]]  # type: ignore[attr-defined]
    assert len(set(titles)) == 400
    # Group commit: far fewer batches than appends.
    assert sequencer.batches < 400


def test_two_stores_on_one_database_share_one_chain(engine: Engine, settings: Settings) -> None:
    """Two processes' stores (each with its cached head) interleave without forking."""
    key = load_authority_key(settings.keys_dir)
    first = LogStore(engine, key, settings.origin)
    second = LogStore(engine, key, settings.origin)
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
    assert parse_entry(lines[0]).kind == "log.genesis"


def test_servers_starting_together_write_one_genesis(settings: Settings) -> None:
    """Two processes initialising one fresh database at once: one head, one genesis."""
    from veche import db as database
    from veche.keys import load_or_create_authority_key

    engine = database.make_engine(settings)
    database.migrate(engine)
    key, _created = load_or_create_authority_key(settings.keys_dir)
    stores = [LogStore(engine, key, settings.origin) for _ in range(4)]
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
