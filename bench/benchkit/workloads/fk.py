"""Workload 6: one migration (CREATE TABLE) with foreign keys enforced, beside a child
table of 1,000,000 rows the migration does not touch, against the same with no rows."""

from __future__ import annotations

from pathlib import Path

from ..measure.callgrind import callgrind
from ..proc import SCRATCH, copy_to, fresh, log, spawn
from ..tools import migrate_bin

ROWS = (0, 1_000_000)


def run(reps: int, binary_path: Path | None = None) -> dict:
    """{"runs": {rows: [Run]}, "callgrind": {"fk-<rows>": counts}}. Each run works on a
    fresh copy of a database made once, so every run applies the migration."""
    binary_path = binary_path or migrate_bin(10)
    results: dict = {}
    sources = {}
    for rows in ROWS:
        source = fresh(SCRATCH / "fk" / f"source-{rows}.db")
        spawn([binary_path, "fk-setup", source, rows])
        sources[rows] = source
    for rep in range(reps):
        for rows in (ROWS if rep % 2 == 0 else ROWS[::-1]):
            path = copy_to(sources[rows], SCRATCH / "fk" / f"run-{rows}.db")
            results.setdefault(rows, []).append(spawn([binary_path, "fk-one", path]))
    # Instructions of one run of each (valgrind), when present: repeatable where time is not.
    cg = callgrind([
        (f"fk-{rows}", [binary_path, "fk-one", copy_to(sources[rows], SCRATCH / "fk" / f"cg-{rows}.db")])
        for rows in ROWS
    ], {"fk_check": r"Backend>::check \["})
    log("foreign-key check workload done")
    return {"runs": results, "callgrind": cg}
