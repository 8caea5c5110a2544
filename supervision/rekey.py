"""Re-encrypt every sealed column with the newest key, in short batches (after `supervision keys rotate`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from supervision import audit, crypto
from supervision.access import Principal
from supervision.db import session_scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealedColumn:
    """A column a service fills with `crypto.encrypt`, and the keyed digest it keeps beside it, if any."""

    table: str
    column: str
    hash_column: str = ""
    hash_prefix: str = ""  # what the service hashes: `crypto.keyed_hash(hash_prefix + plain)`

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


def reencrypt_column(engine: Engine, sealed: SealedColumn, actor: Principal, *, batch: int = 200) -> int:
    """Re-encrypt (and re-digest) the column's values not yet under the newest key; how many rows changed.

    Each batch is a write transaction of its own, a few milliseconds of decrypting and encrypting: the
    service keeps running while a large table is re-encrypted.
    """
    table = sa.table(sealed.table, sa.column("id"), sa.column(sealed.column),
                     *([sa.column(sealed.hash_column)] if sealed.hash_column else []))
    value = table.c[sealed.column]
    digest = table.c[sealed.hash_column] if sealed.hash_column else None
    read = (sa.select(table.c.id, value, *([digest] if digest is not None else []))
            .where(table.c.id > sa.bindparam("after"), value != "").order_by(table.c.id).limit(batch))
    changed, after = 0, 0
    while True:
        with session_scope(engine, write=True) as session:
            conn = session.connection()
            rows = conn.execute(read, {"after": after}).all()
            for row in rows:
                values: dict[str, str] = {}
                fresh = crypto.reencrypt(row[1])
                if fresh is not None:
                    values[sealed.column] = fresh
                if digest is not None:
                    wanted = crypto.keyed_hash(sealed.hash_prefix + crypto.decrypt(fresh or row[1]))
                    if row[2] != wanted:
                        values[sealed.hash_column] = wanted
                if values:
                    conn.execute(sa.update(table).where(table.c.id == row[0]).values(values))
                    changed += 1
        if not rows:
            break
        after = rows[-1][0]
    if changed:
        with session_scope(engine, write=True) as session:
            audit.record(session, actor, "keys.reencrypt", object_kind=sealed.table,
                         summary=f"{sealed.name}: {changed} values re-encrypted with the newest key",
                         detail={"column": sealed.name, "rows": changed})
    logger.info("%s: %d values re-encrypted", sealed.name, changed)
    return changed


__all__ = ["SealedColumn", "reencrypt_column"]
