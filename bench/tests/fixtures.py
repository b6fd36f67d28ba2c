"""Made-up results of every shape the report reads, for the tests (no tool is run)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchkit.proc import Run  # noqa: E402
from benchkit.results import Settings  # noqa: E402
from benchkit.tools import TOOL_NAMES  # noqa: E402
from benchkit.workloads import apply, check, discovery, fanout, postgres  # noqa: E402
from benchkit.workloads.check import STARTUP_PATTERNS  # noqa: E402
from benchkit.workloads.postgres import PG_CHECK_PATTERNS  # noqa: E402


def runs(rng: random.Random, count: int, ns: float, **extra) -> list[Run]:
    out = []
    for _ in range(count):
        value = ns * rng.uniform(0.9, 1.2)
        values = {"ns": str(int(value)), **{k: str(int(v * rng.uniform(0.9, 1.1))) for k, v in extra.items()}}
        out.append(Run(value / 1e9 + 0.001, value / 1e9 * 0.8, rng.randint(3000, 9000), values))
    return out


def callgrind(rng: random.Random, keys, scale: int) -> dict:
    return {key: rng.randint(scale // 10, scale) for key in ("total", "schema", "discovery", *keys)}


def full(quick: bool = False, reps: int = 3, seed: int = 1) -> tuple[dict, Settings]:
    """A full run's results (with PostgreSQL and the fan-out unless `quick`)."""
    rng = random.Random(seed)
    s = Settings(quick=quick, reps=reps, ns=[10, 100] if quick else [10, 100, 1000], journals=["delete", "wal"])
    data: dict = {"date": "2026-12-01", "elapsed": 1800.0, "startup_date": "2026-12-01"}
    data["crates"] = {t: f"rusqlite 0.{i}.0" for i, t in enumerate(TOOL_NAMES)}
    data["versions"] = {t: "3.50.0" for t in TOOL_NAMES}
    data["macro_deps"], data["macro_deps_ok"] = "proc-macro2, quote, syn", True
    data["apply"] = {(n, j, c.group, c.id): runs(rng, reps, 1e6 * n)
                     for n in s.ns for j in s.journals for c in apply.cases(n, j)}
    check_runs = {(n, c.id): runs(rng, reps, 1e5 * n) for n in s.ns for c in check.CASES}
    check_runs.update({(n, check.PROCESS_FLOOR): runs(rng, reps, 1e5) for n in s.ns})
    data["check"] = {"runs": check_runs, "load": [1.5, 1.7]}
    data["discovery"] = {key: runs(rng, reps, 7e5, migrator_discovered_ns=1e5, warm_ns=2e5, empty_str_cmp_ns=3)
                         for key, _ in discovery.CASES}
    data["fk"] = {"runs": {rows: runs(rng, reps, 2e6) for rows in (0, 1_000_000)},
                  "callgrind": {f"fk-{rows}": {"total": 1_000_000 + rows, "fk_check": 5000 + rows}
                                for rows in (0, 1_000_000)}}
    data["breakdown"] = {side: {k: str(rng.randint(1000, 90000)) for k in
                                ("open", "pragma_user_version", "pragma_data_version", "pragma_schema_version",
                                 "schema_load", "history_rows")} for side in ("raw", "migrate")}
    data["fsync_n"] = 100
    data["fsync"] = {(j, c.id): rng.choice([1.0, 2.0, 4.0]) for j in s.journals for c in apply.cases(10, j)}
    data["callgrind"] = {key: callgrind(rng, STARTUP_PATTERNS, 10**7) for key in check.CG_LABELS}
    data["callgrind_small"] = {n: (rng.randint(10**6, 2 * 10**6), rng.randint(10**6, 2 * 10**6)) for n in s.ns[:-1]}
    data["callgrind_apply"] = {key: callgrind(rng, apply.APPLY_PATTERNS, 10**8)
                               for key in (apply.RAW_ONE, apply.MIGRATE_AON)}
    data["callgrind_apply_per"] = {key: callgrind(rng, {**apply.APPLY_PATTERNS, **apply.APPLY_PER_PATTERNS}, 10**9)
                                   for key in ("raw-per", "migrate-per")}
    data["callgrind_discovery"] = {"total": 10**7, "schema": 0, "discovery": 123456}
    if not quick:
        data["build"] = {t: {"clean": 60.0 + i, "clean_crates": 30 + i, "rebuild": 1.5, "rebuild_crates": 1,
                             "size": 3_000_000} for i, t in enumerate(TOOL_NAMES)}
        data["build_jobs"] = None
        data["postgres"] = postgres_results(rng, reps)
        data["fanout"] = fanout_results(rng, reps)
    return data, s


def postgres_results(rng: random.Random, reps: int) -> dict:
    ns = postgres.PG_NS
    writes: dict = {}
    for c in postgres.apply_cases(10):
        for n in ns[:2]:
            writes[("apply", c.id, n)] = 10 + 4 * n
    for c in postgres.check_cases(postgres.PG_CHECK_N):
        writes[("check", c.id)] = rng.randint(5, 20)
    for key in (postgres.RAW_ID, postgres.MIGRATE):
        writes[("callgrind", key)] = callgrind(rng, PG_CHECK_PATTERNS, 10**7)
    return {
        "server": {"server_version": "15.20", "synchronous_commit": "on", "fsync": "on",
                   "wal_sync_method": "fdatasync"},
        "url": "postgres://127.0.0.1/", "reps": reps, "ns": ns, "date": "2026-12-06", "load": 1.1,
        "apply": {(n, c.id): runs(rng, reps, 3e6 * n) for n in ns for c in postgres.apply_cases(n)},
        "check": {c.id: runs(rng, reps, 4e6, connect_ns=2e6) for c in postgres.check_cases(postgres.PG_CHECK_N)},
        "writes": writes,
    }


def fanout_results(rng: random.Random, reps: int) -> dict:
    def part(count, server):
        out = {}
        for c in fanout.cases("sqlite"):
            rs = runs(rng, reps, 1e10)
            for r in rs:
                r.machine = (rng.uniform(0.5, 2), rng.uniform(0, 0.2))
                r.server_cpus = rng.uniform(0.5, 1.5) if server else None
            out[c.id] = rs
        return {"count": count, "runs": out}

    pg = part(500, True)
    pg.update({"server": {"server_version": "15.20", "synchronous_commit": "on"}, "url": "postgres://127.0.0.1/"})
    return {"date": "2026-12-06", "reps": reps, "asked": reps, "load": 2.1, "cpus": 2,
            "fsyncs": {fanout.LOOP: 9.0, fanout.jobs_id(8): 9.0, fanout.SQLX_LOOP: 12.0},
            "sqlite": part(5000, False), "postgres": pg}
