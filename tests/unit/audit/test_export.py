"""The exported log directory: round trip and malformed directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.core.entry import LOG_KINDS, EntryKinds
from audit.core.errors import ExportError
from audit.core.export import (
    CHECKPOINT_FILE,
    ENTRIES_FILE,
    KEY_FILE,
    KeyInfo,
    iter_entries,
    read_export,
    write_export,
)
from audit.core.verify import verify_log
from tests.strategies.audit import ORIGIN, build_chain, exported, signing_key

KINDS = EntryKinds(LOG_KINDS)

NOTICE = {"title": "t", "text": "x", "lang": "en"}


def test_write_then_read(tmp_path: Path) -> None:
    key = signing_key(0)
    key_info = KeyInfo.from_private_key(ORIGIN, key)
    entries = build_chain(key, [NOTICE, NOTICE])
    note = exported(entries, key).checkpoint_note
    count = write_export(tmp_path / "out", iter(entries), note, key_info)
    assert count == 3
    back = read_export(tmp_path / "out")
    assert back.entries == b"".join(e + b"\n" for e in entries)
    assert back.checkpoint_note == note
    assert back.key_info == key_info
    assert list(iter_entries(tmp_path / "out" / ENTRIES_FILE)) == entries
    key_bytes = (tmp_path / "out" / KEY_FILE).read_bytes()
    assert key_bytes.startswith(b'{"origin":"veche.example/log","public_key":"')
    assert key_bytes.endswith(b'"}\n')
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [CHECKPOINT_FILE, ENTRIES_FILE, KEY_FILE]
    )
    report = verify_log(tmp_path / "out", pinned_verifier_key=key_info.verifier_key, kinds=KINDS)
    assert report.ok, report.failures


def test_missing_file(tmp_path: Path) -> None:
    key = signing_key(0)
    entries = build_chain(key, [])
    note = exported(entries, key).checkpoint_note
    write_export(tmp_path, entries, note, KeyInfo.from_private_key(ORIGIN, key))
    (tmp_path / CHECKPOINT_FILE).unlink()
    with pytest.raises(ExportError) as info:
        read_export(tmp_path)
    assert info.value.code == "missing_file"
    report = verify_log(tmp_path, kinds=KINDS)
    assert not report.ok
    assert report.failures[0].code == "missing_file"


def test_malformed_key_file_is_reported(tmp_path: Path) -> None:
    key = signing_key(0)
    key_info = KeyInfo.from_private_key(ORIGIN, key)
    entries = build_chain(key, [])
    write_export(tmp_path, entries, exported(entries, key).checkpoint_note, key_info)
    (tmp_path / KEY_FILE).write_bytes(b'{"origin": "x"}\n')
    back = read_export(tmp_path)
    assert back.key_info is None and back.key_error
    report = verify_log(tmp_path, pinned_verifier_key=key_info.verifier_key, kinds=KINDS)
    assert [f.code for f in report.failures] == ["bad_key_file"]


def test_entry_with_newline_refused(tmp_path: Path) -> None:
    key = signing_key(0)
    with pytest.raises(ExportError):
        write_export(tmp_path, [b"{}\n{}"], "x\n", KeyInfo.from_private_key(ORIGIN, key))
