"""``veche verify`` and ``veche export log --url``: the auditor's side, standard library only.

An auditor runs these on their own machine with nothing beneath them but
``cryptography`` and ``msgspec``: fetching uses ``urllib``. A log is fetched in pages
of the entries endpoint up to the size of the checkpoint fetched first, so the export
is exactly what that checkpoint covers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from audit.core.checkpoint import Checkpoint
from audit.core.cosignature import parse_witness_key
from audit.core.entry import EntryKinds
from audit.core.errors import AuditError, NoteError
from audit.core.export import KeyInfo, write_export
from audit.core.note import parse_note
from audit.core.verify import Report, verify_log

PAGE = 1000

# Reads a path of the server under audit (``/api/v1/…``): (HTTP status, body). It raises
# ``FetchError`` only when the server cannot be reached at all.
Fetch = Callable[[str], tuple[int, bytes]]

# A further check over the verified entries (elections, say): (ok, summary lines, JSON).
# It is given ``Fetch`` when the log was read from a server (to hold what the server
# serves against what it logged), None for an exported directory.
ExtraCheck = Callable[[Sequence[bytes], Fetch | None], tuple[bool, list[str], dict[str, Any]]]


class FetchError(Exception):
    """The server could not be read; the message says what and where."""


def _get(url: str, timeout: int = 60) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "veche-verify/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise FetchError(f"{url} answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot reach {url}: {reason}") from None


def fetcher(base_url: str) -> Fetch:
    """``Fetch`` for the server at ``base_url``: an HTTP error is an answer, not a failure."""
    base = base_url.rstrip("/")

    def fetch(path: str) -> tuple[int, bytes]:
        url = f"{base}{path}"
        request = urllib.request.Request(url, headers={"User-Agent": "veche-verify/1"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                data: bytes = response.read()
                return int(response.status), data
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()[:100_000]
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"cannot reach {url}: {reason}") from None

    return fetch


def fetch_log(base_url: str, directory: Path) -> int:
    """Export the log served at ``base_url`` into ``directory``; return its size."""
    base = base_url.rstrip("/")
    key_raw = _get(f"{base}/api/v1/log/key")
    try:
        key_json = json.loads(key_raw)
        key_info = KeyInfo(
            origin=key_json["origin"],
            public_key=key_json["public_key"],
            verifier_key=key_json["verifier_key"],
        )
    except (ValueError, KeyError, TypeError):
        raise FetchError(f"{base}/api/v1/log/key did not return the log's key") from None
    note = _get(f"{base}/api/v1/log/checkpoint").decode("utf-8", "replace")
    try:
        size = Checkpoint.parse(parse_note(note).text).size
    except (NoteError, AuditError) as exc:
        raise FetchError(f"the server's checkpoint is malformed: {exc}") from None

    def pages() -> Iterator[bytes]:
        start = 0
        while start < size:
            end = min(size, start + PAGE)
            chunk = _get(f"{base}/api/v1/log/entries?start={start}&end={end}")
            lines = chunk.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            if not lines:
                raise FetchError(f"the server returned no entries from {start}")
            yield from lines
            start += len(lines)

    write_export(directory, pages(), note, key_info)
    return size


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "veche" / "checkpoints"


class _ProgressBar:
    """A progress line on standard error for long logs (only when it is a terminal)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 10_000:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} entries")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def summary_lines(report: Report, source: str) -> list[str]:
    lines = [f"Veche log verification of {source}"]
    lines.append(f"  entries checked:        {report.entries:,}")
    if report.checkpoint is not None:
        lines.append(
            f"  signed checkpoint:      size {report.checkpoint.size:,}, "
            f"root {report.checkpoint.root.hex()}"
        )
        lines.append(f"  origin:                 {report.checkpoint.origin}")
    lines.append(
        "  checkpoint key:         "
        + ("pinned by you" if report.key_pinned else "NOT pinned (taken from the log itself)")
    )
    if report.previous_checkpoints:
        sizes = ", ".join(f"{s:,}" for s in report.previous_checkpoints[-5:])
        lines.append(
            f"  earlier checkpoints:    {len(report.previous_checkpoints)} consistent "
            f"(sizes … {sizes})"
        )
    for warning in report.warnings:
        lines.append(f"  warning: {warning}")
    if report.ok:
        lines.append("RESULT: OK — every check passed.")
    else:
        total = len(report.failures) + report.omitted_failures
        lines.append(f"RESULT: FAILED — {total:,} problem(s):")
        for failure in report.failures:
            where = f"seq {failure.seq}" if failure.seq is not None else "log"
            lines.append(f"  {where}: {failure.code}: {failure.detail}")
        if report.omitted_failures:
            lines.append(f"  … and {report.omitted_failures:,} more")
    return lines


def report_json(report: Report, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "ok": report.ok,
        "entries": report.entries,
        "checkpoint": None
        if report.checkpoint is None
        else {
            "origin": report.checkpoint.origin,
            "size": report.checkpoint.size,
            "root": report.checkpoint.root.hex(),
        },
        "key_pinned": report.key_pinned,
        "previous_checkpoints": report.previous_checkpoints,
        "warnings": report.warnings,
        "failures": [{"seq": f.seq, "code": f.code, "detail": f.detail} for f in report.failures],
        "omitted_failures": report.omitted_failures,
    }


def merge_json(document: dict[str, Any], parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The log's report with the further checks' parts added: a part never replaces what
    is there (lists under the same key are joined, other values keep the first), so the
    log's own ``failures`` always stay in the report (docs/protocol.md §10.5)."""
    merged = dict(document)
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            elif isinstance(merged[key], list) and isinstance(value, list):
                merged[key] = [*merged[key], *value]
    return merged


def _verify_directory(
    directory: Path, args: argparse.Namespace, state_dir: Path | None, fetch: Fetch | None = None
) -> tuple[Report, list[tuple[bool, list[str], dict[str, Any]]]]:
    report = verify_log(
        directory,
        kinds=args.kinds,
        pinned_verifier_key=args.key,
        state_dir=state_dir,
        progress=_ProgressBar(sys.stderr),
        witnesses=args.witnesses,
        witness_policy=args.witness_policy,
    )
    extra: list[tuple[bool, list[str], dict[str, Any]]] = []
    checks: list[ExtraCheck] = getattr(args, "checks", [])
    if checks and (directory / "entries.ndjson").is_file():
        data = (directory / "entries.ndjson").read_bytes()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        extra = [check(lines, fetch) for check in checks]
    return report, extra


def witness_options(args: argparse.Namespace) -> str | None:
    """Parse ``--witness``/``--witness-policy`` into ``args.witnesses`` and
    ``args.witness_policy``; a sentence saying what is wrong, or None."""
    try:
        args.witnesses = [parse_witness_key(text) for text in getattr(args, "witness", [])]
    except NoteError as exc:
        return f"--witness: {exc.detail}"
    names = [w.name for w in args.witnesses]
    if len(set(names)) != len(names):
        return "--witness: the same witness is named twice"
    if getattr(args, "witness_policy", None) is None:
        args.witness_policy = len(args.witnesses)
    if not 0 <= args.witness_policy <= len(args.witnesses):
        return (
            f"--witness-policy {args.witness_policy} cannot be met by "
            f"{len(args.witnesses)} --witness key(s)"
        )
    return None


def add_witness_options(parser: argparse.ArgumentParser) -> None:
    """``--witness VKEY`` (repeatable) and ``--witness-policy K`` (§15.8)."""
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness's verifier key (name+id+key, type 0x04) you trust; repeatable",
    )
    parser.add_argument(
        "--witness-policy",
        type=int,
        default=None,
        metavar="K",
        help="how many of the --witness keys must have cosigned the checkpoint (default: all)",
    )


def run_verify(args: argparse.Namespace) -> int:
    problem = witness_options(args)
    if problem is not None:
        print(f"veche: error: {problem}", file=sys.stderr)
        return 2
    source: str = args.source
    state_dir = None if args.no_state else Path(args.state or default_state_dir())
    try:
        if source.startswith(("http://", "https://")):
            with tempfile.TemporaryDirectory(prefix="veche-verify-") as tmp:
                fetch_log(source, Path(tmp))
                report, extra = _verify_directory(Path(tmp), args, state_dir, fetcher(source))
        else:
            directory = Path(source)
            if not directory.is_dir():
                print(f"veche: error: {source} is neither a URL nor a directory", file=sys.stderr)
                return 2
            report, extra = _verify_directory(directory, args, state_dir)
    except FetchError as exc:
        print(f"veche: error: {exc}", file=sys.stderr)
        return 2
    ok = report.ok and all(passed for passed, _lines, _json in extra)
    if args.json:
        document = merge_json(report_json(report, source), [part for *_rest, part in extra])
        document["ok"] = ok
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        lines = summary_lines(report, source)
        for _passed, extra_lines, _json in extra:
            lines.extend(extra_lines)
        if extra:
            lines.append(
                "OVERALL: OK — the log and every election check out."
                if ok
                else "OVERALL: FAILED — see the problems above."
            )
        print("\n".join(lines))
    return 0 if ok else 1


def add_verify_command(
    subparsers: argparse._SubParsersAction[Any],
    kinds: EntryKinds,
    checks: Sequence[ExtraCheck] = (),
) -> None:
    """``veche verify``: the log's checks for entries of ``kinds``, then ``checks``."""
    parser = subparsers.add_parser(
        "verify",
        help="verify a log from a server URL or an exported directory",
        description=(
            "Check every entry's canonical bytes, chain link and leaf hash, the Merkle root "
            "against the signed checkpoint, the checkpoint's signature, and consistency with "
            "every checkpoint seen before. Exit status 0 only when everything holds."
        ),
    )
    parser.add_argument("source", help="http(s)://server or an exported log directory")
    parser.add_argument(
        "--key",
        help="the log's verifier key (name+hash+key), obtained independently; pin it",
    )
    parser.add_argument(
        "--state",
        help="directory of checkpoints seen before (default: ~/.local/state/veche/checkpoints)",
    )
    parser.add_argument(
        "--no-state", action="store_true", help="neither read nor remember checkpoints"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_witness_options(parser)
    parser.set_defaults(func=run_verify, kinds=kinds, checks=list(checks))
