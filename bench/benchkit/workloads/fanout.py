"""Section 7, the fan-out: `Migrator::fan_out()` over many SQLite files and PostgreSQL
schemas with 1 to 8 workers, against sequential loops (migrate's and sqlx's)."""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import dataclass
from typing import Callable

from ..measure import strace
from ..measure.cpu import postmaster, spawn_machine
from ..proc import SCRATCH, log, spawn
from ..tools import FANOUT, SQLX
from . import postgres

JOBS = [1, 2, 4, 8]
MIGRATIONS = 5
LOOP = "loop"
SQLX_LOOP = "sqlx"
LOOP_LABEL = "migrate, a loop (open, `to_latest`)"
SQLX_LABEL = "sqlx, a loop (one pool of one connection each, `Migrator::run`)"


def jobs_id(jobs: int) -> str:
    return f"jobs{jobs}"


def jobs_label(jobs: int) -> str:
    return f"migrate, `fan_out().jobs({jobs})`"


@dataclass(frozen=True)
class Case:
    """One row: id, label, workers (None: a loop), command. SQLite's takes (dir, count),
    PostgreSQL's (url, prefix, count)."""

    id: str
    label: str
    jobs: int | None
    command: Callable


def cases(backend: str) -> list[Case]:
    if backend == "sqlite":
        return [
            Case(LOOP, LOOP_LABEL, None, lambda d, c: [FANOUT, "sqlite-loop", d, c]),
            *[Case(jobs_id(j), jobs_label(j), j, lambda d, c, j=j: [FANOUT, "sqlite-fanout", d, c, j])
              for j in JOBS],
            Case(SQLX_LOOP, SQLX_LABEL, None, lambda d, c: [SQLX, "sqlite-loop", d, c]),
        ]
    return [
        Case(LOOP, LOOP_LABEL, None, lambda u, p, c: [FANOUT, "pg-loop", u, p, c]),
        *[Case(jobs_id(j), jobs_label(j), j, lambda u, p, c, j=j: [FANOUT, "pg-fanout", u, p, c, j])
          for j in JOBS],
        Case(SQLX_LOOP, SQLX_LABEL, None, lambda u, p, c: [SQLX, "pg-loop", u, p, c]),
    ]


def labels() -> dict[str, str]:
    return {case.id: case.label for case in cases("sqlite")}


def fsyncs(files: int = 10) -> dict:
    """{id: fsync/fdatasync calls per SQLite file} of the two loops and of 8 workers
    (strace -c, one run of `files` files each)."""
    if not strace.available():
        return {}
    counts = {}
    for case in cases("sqlite"):
        if case.id not in (LOOP, jobs_id(8), SQLX_LOOP):
            continue
        folder = SCRATCH / "fanout" / "strace"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        calls = strace.count_fsyncs(case.command(folder, files), SCRATCH / "fanout" / "strace.txt")
        shutil.rmtree(folder, ignore_errors=True)
        counts[case.id] = calls / files
    return counts


def run(reps: int, count: int, pg_count: int, each_round=None) -> dict:
    """Each case `reps` times, interleaved (the order rotates each round): SQLite, `count`
    new files in a new folder per sample (removed after, not timed); PostgreSQL,
    `pg_count` schemas made in a new database per sample, before the measured command
    (not timed), the database dropped after. After each round, `each_round(results so
    far)`: a long run stopped part way keeps the rounds it finished."""
    root = SCRATCH / "fanout"
    sqlite: dict = {}
    pg_runs: dict = {}
    server = postgres.server() if pg_count else None
    server_pid = postmaster() if server is not None else None
    fsync_counts = fsyncs()

    def results(rounds: int) -> dict:
        return {
            "date": datetime.date.today().isoformat(),
            "reps": rounds,
            "asked": reps,
            "load": os.getloadavg()[0],
            "cpus": os.cpu_count(),
            "fsyncs": fsync_counts,
            "sqlite": {"count": count, "runs": sqlite},
            "postgres": {"count": pg_count, "runs": pg_runs, "server": server,
                         "url": postgres.safe_url()} if server is not None else None,
        }

    for rep in range(reps):
        rows = cases("sqlite")
        shift = rep % len(rows)
        for case in rows[shift:] + rows[:shift]:
            folder = root / f"{case.id}-{rep}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            try:
                run_ = spawn_machine(case.command(folder, count))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            sqlite.setdefault(case.id, []).append(run_)
            log(f"fanout: SQLite {case.label}: {run_.ns / 1e9:.1f} s")
        if server is not None:
            rows = cases("pg")
            shift = rep % len(rows)
            for case in rows[shift:] + rows[:shift]:
                database = f"bench_fanout_{case.id}_{rep}"
                url = postgres.pg_url(database)
                postgres.admin("drop", database)  # left over from a run that was stopped
                postgres.admin("create", database)
                try:
                    spawn([FANOUT, "pg-setup", url, "tenant", pg_count])
                    run_ = spawn_machine(case.command(url, "tenant", pg_count), server_pid)
                finally:
                    postgres.admin("drop", database)
                pg_runs.setdefault(case.id, []).append(run_)
                log(f"fanout: PostgreSQL {case.label}: {run_.ns / 1e9:.1f} s")
        log(f"fanout: round {rep + 1}/{reps} done")
        if each_round is not None:
            each_round(results(rep + 1))
    return results(reps)
