"""Tables of the audit log.

- ``log_entry``: each entry's exact canonical bytes, keyed by ``seq`` (the primary key
  makes a reused ``seq`` impossible), with its leaf hash.
- ``log_node``: hashes of the perfect subtrees (RFC 9162 §2.1) that appends complete,
  keyed by ``(level, index)``; every proof and root is read from O(log n) of them.
- ``log_checkpoint``: the signed checkpoint issued after each batch, by tree size.
- ``log_cosignature``: witnesses' cosignature lines on checkpoints, by size and witness.
- ``log_head``: one row, the size of the log; writers lock it so that a batch from any
  process sees the newest head (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` already serializes writers).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, LargeBinary
from sqlmodel import Field, SQLModel


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    __table_args__ = (CheckConstraint("seq >= 0", name="ck_log_entry_seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=64, index=True)
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LogNode(SQLModel, table=True):
    __tablename__ = "log_node"

    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LogCheckpoint(SQLModel, table=True):
    __tablename__ = "log_checkpoint"

    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str
    at: int


class LogHead(SQLModel, table=True):
    __tablename__ = "log_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_log_head_single"),)

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int = 0


class LogCosignature(SQLModel, table=True):
    """A witness's cosignature line (docs/protocol.md §15.7) on the checkpoint of ``size``:
    the whole signature line, as the witness answered it, verified before it is stored."""

    __tablename__ = "log_cosignature"

    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    witness: str = Field(primary_key=True, max_length=255)
    line: str
    at: int
