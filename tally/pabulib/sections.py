"""A Pabulib file's text cut into its sections (META, PROJECTS, VOTES), rows stripped.

Rows are ``;``-separated with CSV quoting, read with the ``csv`` module, except the VOTES
section when none of its fields is quoted: nearly all of a large file, it is split with
``str.split`` into one flat list of fields, each column a slice of it (no container per
row), which reads it as the ``csv`` module would.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from functools import cache
from itertools import product, repeat

import msgspec

from tally.errors import PabulibError

__all__ = ["TITLES", "Section", "sections"]

TITLES = ("meta", "projects", "votes")
# In a block of unquoted rows: a line that is a section title, a line with no field,
# and whitespace around a field (which the reader strips). "[^\S\n]" is whitespace
# other than the line end.
_TITLE_LINE = re.compile(r"^[^\S\n]*(?:meta|projects|votes)(?:[^\S\n]*;)*[^\S\n]*$", re.I | re.M)
_PADDED = re.compile(r"[^\S\n];|;[^\S\n]|^[^\S\n]|[^\S\n]$", re.M)
_SEPARATOR_PADDING = re.compile(r"[^\S\n]*;[^\S\n]*")
_LINE_PADDING = re.compile(r"^[^\S\n]+|[^\S\n]+$", re.M)
# Whitespace (``str.isspace``, the regular expressions' ``\s``) other than " " and "\n".
OTHER_SPACE = (
    "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_OTHER_SPACE = OTHER_SPACE[:8]


class Section(msgspec.Struct):
    """One section: its header and its rows, by column; ``lines[i]`` is row ``i``'s line."""

    title: str
    title_line: int
    header: list[str] = msgspec.field(default_factory=list)
    header_line: int = 0
    rows: list[list[str]] = msgspec.field(default_factory=list)
    lines: Sequence[int] = msgspec.field(default_factory=list)
    columns: list[Sequence[str]] = msgspec.field(default_factory=list)
    size: int = -1  # the number of rows, when they are only kept as columns

    def __len__(self) -> int:
        return self.size if self.size >= 0 else len(self.rows)

    def column(self, k: int) -> Sequence[str]:
        if not self.columns:
            self.columns = list(zip(*self.rows, strict=True)) or [() for _ in self.header]
        return self.columns[k]


def sections(text: str) -> dict[str, Section]:
    """The file's sections, rows stripped, blank rows left out."""
    sections: dict[str, Section] = {}
    current: Section | None = None
    source = io.StringIO(text, newline="")  # read line by line: tell() is where it is
    reader = csv.reader(source, delimiter=";")
    start = 1
    try:
        for raw in reader:
            line, start = start, reader.line_num + 1
            row = [f.strip() for f in raw]
            if not row or all(not f for f in row):
                continue
            title = row[0].lower()
            if title in TITLES and all(not f for f in row[1:]):
                if title in sections:
                    raise PabulibError(line, f"a second {title.upper()} section")
                current = sections[title] = Section(title, line)
                if title == "votes" and _unquoted_rest(
                    current, text[source.tell() :], reader.line_num
                ):
                    break
                continue
            if current is None:
                raise PabulibError(line, "data before the META section")
            if not current.header_line:
                _set_header(current, row, line)
                continue
            if len(row) != len(current.header):
                raise PabulibError(
                    line, f"{len(row)} fields where the header has {len(current.header)}"
                )
            current.rows.append(row)
            assert isinstance(current.lines, list)
            current.lines.append(line)
    except csv.Error as exc:
        raise PabulibError(reader.line_num, f"bad CSV quoting: {exc}") from None
    return sections


def _set_header(section: Section, row: list[str], line: int) -> None:
    section.header, section.header_line = row, line
    if section.title == "meta" and row[:2] != ["key", "value"]:
        raise PabulibError(line, "the META header must be key;value")
    needed = {"projects": ("project_id", "cost"), "votes": ("voter_id", "vote")}
    for col in needed.get(section.title, ()):
        if col not in row:
            raise PabulibError(line, f"the {section.title.upper()} header lacks {col}")


def _unquoted_rest(votes: Section, block: str, done: int) -> bool:
    """Read the rest of the file into ``votes`` with ``str.split``, if that reads it as
    the ``csv`` module would: nothing quoted, no other section, no NUL, no lone ``\\r``.
    ``block`` is the rest of the file, after ``done`` lines. False (and nothing read)
    otherwise.

    No container is made per row: the rows are joined and split into one flat list of
    fields, and each column is a slice of it."""
    if '"' in block or "\0" in block:
        return False
    if "\r" in block:
        block = block.replace("\r\n", "\n")
        if "\r" in block:
            return False
    if _padded(block):
        block = _LINE_PADDING.sub("", _SEPARATOR_PADDING.sub(";", block))
    rows = block.split("\n")
    if rows[-1] == "":
        rows.pop()  # the file's last line end
    first = done + 1  # the line of rows[0]
    lines_of: Sequence[int] = range(first, first + len(rows))
    if "" in rows or block.startswith(";") or "\n;" in block:
        keep = [i for i, r in enumerate(rows) if r.strip(";")]
        rows = [rows[i] for i in keep]
        lines_of = [first + i for i in keep]
    if not rows:
        return True
    header = rows[0].split(";")
    data = rows[1:]
    width = len(header)
    uneven = bool(set(map(str.count, data, repeat(";"))) - {width - 1})
    fields = ";".join(data).split(";") if data and not uneven else []
    # A row that is a section title (a title, then empty fields) is the csv reader's:
    # it starts another section. Such a row has a title as its first field.
    firsts = fields[0::width] if not uneven else [row.partition(";")[0] for row in data]
    if _TITLE_LINE.match(rows[0]) or not _title_casings().isdisjoint(firsts):
        return False
    _set_header(votes, header, lines_of[0])
    if uneven:
        for i, row in enumerate(data):
            if row.count(";") != width - 1:
                count = row.count(";") + 1
                raise PabulibError(lines_of[i + 1], f"{count} fields where the header has {width}")
    votes.columns = [fields[k::width] for k in range(width)]
    votes.size = len(data)
    votes.lines = lines_of[1:]
    return True


@cache
def _title_casings() -> frozenset[str]:
    """Every spelling of a section title that ``str.lower`` makes one (no character
    outside ASCII lowers to a letter of ``meta``, ``projects`` or ``votes``)."""
    return frozenset(
        "".join(spelling)
        for title in TITLES
        for spelling in product(*((ch, ch.upper()) for ch in title))
    )


def _padded(block: str) -> bool:
    """Whether a field in ``block`` (rows separated by ``\\n``) starts or ends with
    whitespace; substring searches, which are fast, unless the text has whitespace other
    than spaces, for which the regular expression looks."""
    others = _ASCII_OTHER_SPACE if block.isascii() else OTHER_SPACE
    if any(ws in block for ws in others):
        return _PADDED.search(block) is not None
    return " " in block and (
        "; " in block
        or " ;" in block
        or "\n " in block
        or " \n" in block
        or block.startswith(" ")
        or block.endswith(" ")
    )
