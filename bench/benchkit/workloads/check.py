"""Workload 2: the start-up check with everything applied, its breakdown and its
instruction counts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from ..measure.callgrind import callgrind
from ..proc import SCRATCH, copy_db, fresh, log, spawn
from ..tools import RAW, REFINERY, RUSQLITE_MIGRATION, SQLX, DIESEL, migrate_bin


@dataclass(frozen=True)
class Case:
    """One row: id, label, the command that applies N to a path, the one that checks."""

    id: str
    label: str
    prepare: Callable
    check: Callable


RAW_CHECK = "raw"
DEFAULT_CHECK = "default"
FAST_CHECK = "fast"
RM_CHECK = "rusqlite-migration"
PROCESS_FLOOR = "process-floor"
PROCESS_FLOOR_LABEL = "process floor (a Rust binary that does nothing)"
PEERS = ("refinery", "sqlx", "diesel")

# Every row has its own file: the fast start's apply keeps the fingerprint (and its
# companion table).
CASES = [
    Case(RAW_CHECK, "raw floor (one history read)",
         lambda p, n: [RAW, "apply", p, n, "delete", "one"], lambda p, n: [RAW, "check", p, n]),
    Case(DEFAULT_CHECK, "migrate, the default (narrow history read)",
         lambda p, n: [migrate_bin(n), "apply", p, n, "delete", "aon"],
         lambda p, n: [migrate_bin(n), "check", p, n]),
    Case(FAST_CHECK, "migrate, fast_start(true) (opt-in)",
         lambda p, n: [migrate_bin(n), "apply", p, n, "delete", "aon", "fast"],
         lambda p, n: [migrate_bin(n), "check-fast", p, n]),
    Case(RM_CHECK, "rusqlite_migration (header only, no history)",
         lambda p, n: [RUSQLITE_MIGRATION, "apply", p, n, "delete"],
         lambda p, n: [RUSQLITE_MIGRATION, "check", p, n]),
    Case("refinery", "refinery", lambda p, n: [REFINERY, "apply", p, n, "delete", "one"],
         lambda p, n: [REFINERY, "check", p, n]),
    Case("sqlx", "sqlx", lambda p, n: [SQLX, "apply", p, n, "delete"], lambda p, n: [SQLX, "check", p, n]),
    Case("diesel", "diesel", lambda p, n: [DIESEL, "apply", p, n, "delete"],
         lambda p, n: [DIESEL, "check", p, n]),
]


def cases(without: list[str] | tuple[str, ...] = ()) -> list[Case]:
    return [case for case in CASES if case.id not in without]


def labels() -> dict[str, str]:
    return {**{case.id: case.label for case in CASES}, PROCESS_FLOOR: PROCESS_FLOOR_LABEL}


def run(ns: list[int], reps: int, without: list[str] | tuple[str, ...] = ()) -> tuple[dict, dict]:
    """({"runs": {(n, id): [Run]}, "load": (before, after)}, {(n, id): database path})."""
    load_before = os.getloadavg()[0]
    rows = cases(without)
    paths = {}
    for n in ns:
        for case in rows:
            path = fresh(SCRATCH / "check" / f"{case.id}-{n}.db")
            spawn(case.prepare(path, n))
            paths[(n, case.id)] = path
    results: dict = {}
    for n in ns:
        for case in rows:
            spawn(case.check(paths[(n, case.id)], n))  # warm the page cache; not counted
    for rep in range(reps):
        for n in ns:
            order = [(case.id, case.check) for case in rows] + [(PROCESS_FLOOR, None)]
            shift = rep % len(order)
            for key, check in order[shift:] + order[:shift]:
                if check is None:
                    run_ = spawn([RAW, "noop"])
                else:
                    run_ = spawn(check(paths[(n, key)], n))
                results.setdefault((n, key), []).append(run_)
    log("start-up checks done")
    return {"runs": results, "load": (load_before, os.getloadavg()[0])}, paths


def breakdown(paths: dict, n_max: int) -> dict:
    """`bench-raw breakdown` on the floor's database and on migrate's."""
    return {
        "raw": spawn([RAW, "breakdown", paths[(n_max, RAW_CHECK)], 50, "history"]).values,
        "migrate": spawn([RAW, "breakdown", paths[(n_max, DEFAULT_CHECK)], 50, "migrate_history"]).values,
    }


STARTUP_PATTERNS = {
    # Inclusive instructions of the parts of a start-up check: SQLite's (every process)...
    "prepare": r"rusqlite::Connection::prepare_with_flags \[",
    "step": r"sqlite3\.c:sqlite3_step \[",
    "close": r"sqlite3\.c:sqlite3_close \[",
    # The loop that reads the history rows into a Vec (the floor's and `read_applied`'s).
    "rows": r"core::iter::adapters::try_process \[",
    # ... and migrate's.
    "open": r"backend::Sqlite::open",
    "discovered": r"manager::Migrator::discovered \[",
    # The start-up read (`read_applied_unless_up_to_date`, which wraps `read_applied`).
    "read_applied": r"Backend>::read_applied(_unless_up_to_date)? \[",
    "plan": r"migrate_core::plan::plan \[",
    "of_known": r"fingerprint::of_known \[",
    "of_history": r"Fingerprint::of_history \[",
}

# The start-up processes measured with callgrind: ids and the page's labels.
CG_RAW = "raw"
CG_DEFAULT = "default"
CG_FAST = "fast"
CG_FAST_MISS = "fast-miss"
CG_RM = "rusqlite-migration"
CG_LABELS = {
    CG_RAW: "raw floor",
    CG_DEFAULT: "migrate, the default (narrow read)",
    CG_FAST: "migrate, fast_start(true)",
    CG_FAST_MISS: "migrate, fast_start(true) on a file applied without it",
    CG_RM: "rusqlite_migration",
}


def startup_callgrind(paths: dict, n_max: int) -> dict:
    measured = callgrind([
        (CG_RAW, [RAW, "check", paths[(n_max, RAW_CHECK)], n_max]),
        (CG_DEFAULT, [migrate_bin(n_max), "check", paths[(n_max, DEFAULT_CHECK)], n_max]),
        (CG_FAST, [migrate_bin(n_max), "check-fast", paths[(n_max, FAST_CHECK)], n_max]),
        # No fingerprint stored: the fast start misses and takes the full check. The
        # file is a copy, so the measured files stay as they were.
        (CG_FAST_MISS, [migrate_bin(n_max), "loop-check",
                        copy_db(paths[(n_max, DEFAULT_CHECK)], SCRATCH / "cg" / "miss.db"), 1, "fast"]),
        (CG_RM, [RUSQLITE_MIGRATION, "check", paths[(n_max, RM_CHECK)], n_max]),
    ], STARTUP_PATTERNS)
    # migrate reads its rows in a plain loop inside `read_applied` (no `try_process`): its
    # row loop is `read_applied` without the prepare (and schema load) it includes.
    for key in (CG_DEFAULT, CG_FAST_MISS):
        values = measured.get(key, {})
        if not values.get("rows") and values.get("read_applied"):
            values["rows"] = values["read_applied"] - values.get("prepare", 0)
    return measured


def startup_callgrind_small(paths: dict, ns: list[int]) -> dict:
    """{n: (floor's total, default's total)} at the smaller N."""
    out = {}
    for n in ns[:-1]:
        c = callgrind([
            (f"raw-{n}", [RAW, "check", paths[(n, RAW_CHECK)], n]),
            (f"default-{n}", [migrate_bin(n), "check", paths[(n, DEFAULT_CHECK)], n]),
        ])
        if c:
            out[n] = (c[f"raw-{n}"]["total"], c[f"default-{n}"]["total"])
    return out


def measure(ns: list[int], reps: int, without=()) -> dict:
    """The workload and everything measured on its files: check, breakdown, callgrind,
    callgrind_small."""
    check, paths = run(ns, reps, without)
    n_max = max(ns)
    return {
        "check": check,
        "breakdown": breakdown(paths, n_max),
        "callgrind": startup_callgrind(paths, n_max),
        "callgrind_small": startup_callgrind_small(paths, ns),
    }


