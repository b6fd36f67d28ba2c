"""Workloads 1 and 4: applying N migrations (time and max RSS), their fsync calls and
their instructions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..measure import strace
from ..measure.callgrind import callgrind
from ..proc import SCRATCH, fresh, log, spawn
from ..tools import RAW, REFINERY, RUSQLITE_MIGRATION, SQLX, DIESEL, migrate_bin


@dataclass(frozen=True)
class Case:
    """One row: its group (`per`: a transaction per migration, `one`: one for all), its
    id (the results' key), its label (the page's), and its command for a database path."""

    group: str
    id: str
    label: str
    command: Callable


# The two floors every row of a group is compared to.
RAW_PER = "raw-per"
RAW_ONE = "raw-one"
MIGRATE = "migrate"
MIGRATE_AON = "migrate-aon"


def cases(n: int, journal: str) -> list[Case]:
    """Per-migration transactions, then one."""
    m = migrate_bin(n)
    return [
        Case("per", RAW_PER, "raw floor (BEGIN IMMEDIATE, statement, history row, COMMIT)",
             lambda p: [RAW, "apply", p, n, journal, "per"]),
        Case("per", MIGRATE, "migrate", lambda p: [m, "apply", p, n, journal, "per"]),
        Case("per", "refinery", "refinery", lambda p: [REFINERY, "apply", p, n, journal, "per"]),
        Case("per", "sqlx", "sqlx", lambda p: [SQLX, "apply", p, n, journal]),
        Case("per", "diesel", "diesel", lambda p: [DIESEL, "apply", p, n, journal]),
        Case("one", RAW_ONE, "raw floor, all in one transaction", lambda p: [RAW, "apply", p, n, journal, "one"]),
        Case("one", MIGRATE_AON, "migrate, all_or_nothing(true)", lambda p: [m, "apply", p, n, journal, "aon"]),
        Case("one", "rusqlite-migration", "rusqlite_migration (no history rows)",
             lambda p: [RUSQLITE_MIGRATION, "apply", p, n, journal]),
        Case("one", "refinery-grouped", "refinery, set_grouped(true)",
             lambda p: [REFINERY, "apply", p, n, journal, "one"]),
    ]


def floor(group: str) -> str:
    return RAW_PER if group == "per" else RAW_ONE


def run(ns: list[int], journals: list[str], reps: int) -> dict:
    """{(n, journal, group, id): [Run]}, the cases rotating each round."""
    results: dict = {}
    for rep in range(reps):
        for n in ns:
            for journal in journals:
                rows = cases(n, journal)
                shift = rep % len(rows)
                for case in rows[shift:] + rows[:shift]:
                    path = fresh(SCRATCH / "apply" / f"{case.id}.db")
                    results.setdefault((n, journal, case.group, case.id), []).append(spawn(case.command(path)))
        log(f"apply: round {rep + 1}/{reps} done")
    return results


def fsync_counts(n: int) -> dict:
    """{(journal, id): fsync/fdatasync calls per migration} of one apply of `n` (strace -c)."""
    if not strace.available():
        return {}
    counts = {}
    for journal in ("delete", "wal"):
        for case in cases(n, journal):
            path = fresh(SCRATCH / "strace" / "db.db")
            calls = strace.count_fsyncs(case.command(path), SCRATCH / "strace" / "counts.txt")
            counts[(journal, case.id)] = calls / n
    log("fsync counts done")
    return counts


# Instruction counts of a whole apply: the processes' ids and labels.
CG_LABELS = {
    RAW_ONE: "raw floor, one transaction",
    MIGRATE_AON: "migrate, all_or_nothing(true)",
    "raw-per": "raw floor, one transaction per migration",
    "migrate-per": "migrate, one transaction per migration",
}

APPLY_PATTERNS = {
    "history_row": r"(Backend>::record_applied|bench_raw::record) \[",
    "fk_check": r"Backend>::check \[",
    "fingerprint": r"Backend>::store_fingerprint \[",
}

APPLY_PER_PATTERNS = {
    # Each migration's transaction: migrate's `Backend::begin` and `Backend::check` (the
    # foreign-key check: a snapshot of the schema at begin, compared after the migration).
    "begin": r"Backend>::begin \[",
    "schema_read": r"foreign_keys::Schema::read \[",
}


def callgrind_one(n: int) -> dict:
    """Instructions of one apply of `n` in one transaction (WAL), the floor's and migrate's."""
    return callgrind([
        (RAW_ONE, [RAW, "apply", fresh(SCRATCH / "cg" / "a.db"), n, "wal", "one"]),
        (MIGRATE_AON, [migrate_bin(n), "apply", fresh(SCRATCH / "cg" / "b.db"), n, "wal", "aon"]),
    ], APPLY_PATTERNS)


def callgrind_per(n: int) -> dict:
    """Instructions of one apply of `n` with one transaction per migration (WAL, so the
    commits cost little time under valgrind), the floor's and migrate's."""
    return callgrind([
        ("raw-per", [RAW, "apply", fresh(SCRATCH / "cg" / "per-a.db"), n, "wal", "per"]),
        ("migrate-per", [migrate_bin(n), "apply", fresh(SCRATCH / "cg" / "per-b.db"), n, "wal", "per"]),
    ], {**APPLY_PATTERNS, **APPLY_PER_PATTERNS})
