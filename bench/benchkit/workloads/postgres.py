"""Section 6, PostgreSQL: applying N and the start-up check against a server, each
sample in a database of its own; the client's socket writes and instructions."""

from __future__ import annotations

import datetime
import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import Callable

from ..measure import strace
from ..measure.callgrind import callgrind
from ..proc import Run, log, spawn
from ..tools import RAW, REFINERY, SQLX, DIESEL, migrate_pg_bin

PG_URL = os.environ.get("MIGRATE_BENCH_POSTGRES", "postgres://postgres@127.0.0.1/")
PG_NS = [10, 100, 1000]
PG_CHECK_N = 1000
# The ids (also part of the databases' names, so no `-`).
RAW_ID = "raw"
ONE_TRIP = "raw_one_trip"
MIGRATE = "migrate"
PEERS = ("refinery", "sqlx", "diesel")


@dataclass(frozen=True)
class Case:
    """One row: id, label, the command for a connection string (apply), and for the
    start-up check the command that prepares it (`apply` applies N with the tool itself)."""

    id: str
    label: str
    apply: Callable
    check: Callable | None = None


def safe_url() -> str:
    """`MIGRATE_BENCH_POSTGRES` without its credentials, for the page."""
    return re.sub(r"//[^@/]*@", "//", PG_URL)


def pg_url(database: str, base: str | None = None) -> str:
    """`MIGRATE_BENCH_POSTGRES` with its database replaced by `database`, and `sslmode=disable`
    unless it names a mode: libpq (diesel) would otherwise negotiate TLS where the server
    offers it, and the other clients here are built without TLS."""
    parts = urllib.parse.urlsplit(base or PG_URL)
    query = parts.query if "sslmode=" in parts.query else "&".join(filter(None, [parts.query, "sslmode=disable"]))
    return urllib.parse.urlunsplit(parts._replace(path="/" + database, query=query))


def apply_cases(n: int) -> list[Case]:
    """Each migration in a transaction of its own, with its history row."""
    return [
        Case(RAW_ID, "raw floor (BEGIN; statement; history row, prepared once; COMMIT)",
             lambda u: [RAW, "pg-apply", u, n, "per"]),
        Case(ONE_TRIP, "raw, one round trip per migration (the same transaction as one simple query)",
             lambda u: [RAW, "pg-apply", u, n, "one-trip"]),
        Case(MIGRATE, "migrate (migrate-postgres)", lambda u: [migrate_pg_bin(n), "pg-apply", u, n]),
        Case("refinery", "refinery", lambda u: [REFINERY, "pg-apply", u, n]),
        Case("sqlx", "sqlx", lambda u: [SQLX, "pg-apply", u, n]),
        Case("diesel", "diesel", lambda u: [DIESEL, "pg-apply", u, n]),
    ]


def check_command(key: str, n: int) -> list:
    return {
        RAW_ID: [RAW, "pg-check"],
        MIGRATE: [migrate_pg_bin(n), "pg-check"],
        "refinery": [REFINERY, "pg-check"],
        "sqlx": [SQLX, "pg-check"],
        "diesel": [DIESEL, "pg-check"],
    }[key]


RAW_CHECK_LABEL = "raw floor (one history read, a simple query)"


def check_cases(n: int) -> list[Case]:
    """The start-up check: `apply` prepares (applies `n` with the tool itself), `check`
    checks."""
    return [
        Case(RAW_ID, RAW_CHECK_LABEL, lambda u: [RAW, "pg-apply", u, n, "per"],
             lambda u: [RAW, "pg-check", u, n]),
        *[Case(case.id, case.label, case.apply, lambda u, key=case.id: [*check_command(key, n), u, n])
          for case in apply_cases(n) if case.id not in (RAW_ID, ONE_TRIP)],
    ]


def admin(action: str, database: str) -> None:
    spawn([RAW, "pg-admin", PG_URL, action, database])


def server() -> dict | None:
    """The server's version and commit settings, or None when there is no server."""
    try:
        return spawn([RAW, "pg-version", PG_URL]).values
    except SystemExit as error:
        log(f"no PostgreSQL server at MIGRATE_BENCH_POSTGRES ({PG_URL}): {str(error).splitlines()[-1]}")
        return None


def in_database(database: str, commands: list[list]) -> list[Run]:
    """Runs `commands` in a new database `database`, dropped afterwards."""
    admin("drop", database)  # left over from a run that was stopped
    admin("create", database)
    try:
        return [spawn(command) for command in commands]
    finally:
        admin("drop", database)


def run(reps: int, ns: list[int] | None = None) -> dict:
    """Applying N (each sample in a new database) and the start-up check with
    `PG_CHECK_N` applied (a new database per sample, applied by the tool itself, one check
    not counted to warm the server's caches, then the measured one); the tools
    interleaved, the order rotating each round. Then the client's socket writes of one
    run of each (strace). {} without a server."""
    ns = ns or PG_NS
    found = server()
    if found is None:
        return {}
    apply: dict = {}
    check: dict = {}
    for rep in range(reps):
        for n in ns:
            cases = apply_cases(n)
            shift = rep % len(cases)
            for case in cases[shift:] + cases[:shift]:
                database = f"bench_{case.id}_{n}_{rep}"
                [run_] = in_database(database, [case.apply(pg_url(database))])
                apply.setdefault((n, case.id), []).append(run_)
        cases = check_cases(PG_CHECK_N)
        shift = rep % len(cases)
        for case in cases[shift:] + cases[:shift]:
            database = f"bench_{case.id}_check_{rep}"
            url = pg_url(database)
            _, _, run_ = in_database(database, [case.apply(url), case.check(url), case.check(url)])
            check.setdefault(case.id, []).append(run_)
        log(f"postgres: round {rep + 1}/{reps} done")
    return {
        "server": found,
        "url": safe_url(),
        "reps": reps,
        "ns": ns,
        "date": datetime.date.today().isoformat(),
        "load": os.getloadavg()[0],
        "apply": apply,
        "check": check,
        "writes": socket_writes(ns),
    }


# Inclusive instructions of the parts of a PostgreSQL start-up check, the client's side.
PG_CHECK_PATTERNS = {
    "connect": r"(Postgres::connect|bench_raw::pg::connect) \[",
    "simple_query": r"postgres::client::Client::simple_query \[",
    "discovered": r"manager::Migrator::discovered \[",
    # The start-up read (`read_applied_unless_up_to_date`, which wraps `read_applied`).
    "read_applied": r"Backend>::read_applied(_unless_up_to_date)? \[",
    "read_applied_raw": r"Postgres::read_applied_raw \[",
    "up_to_date": r"history::up_to_date \[",
    "plan": r"migrate_core::plan::plan \[",
}


def socket_writes(ns: list[int]) -> dict:
    """Socket writes of one apply at the two smallest N (their difference per migration
    is the per-migration cost, without connecting and setting up) and of one start-up
    check at `PG_CHECK_N`: {("apply", id, n): writes, ("check", id): writes,
    ("callgrind", id): counts}."""
    counts: dict = {}
    small, large = ns[0], ns[1] if len(ns) > 1 else ns[0]
    for case in apply_cases(small):
        for n in (small, large):
            make = next(c.apply for c in apply_cases(n) if c.id == case.id)
            database = f"bench_{case.id}_strace_{n}"
            admin("drop", database)
            admin("create", database)
            try:
                counts[("apply", case.id, n)] = strace.socket_writes(make(pg_url(database)))
            finally:
                admin("drop", database)
    for case in check_cases(PG_CHECK_N):
        database = f"bench_{case.id}_strace_check"
        url = pg_url(database)
        admin("drop", database)
        admin("create", database)
        try:
            spawn(case.apply(url))
            counts[("check", case.id)] = strace.socket_writes(case.check(url))
            if case.id in (RAW_ID, MIGRATE):
                counts[("callgrind", case.id)] = callgrind([(f"pg-{case.id}", case.check(url))],
                                                           PG_CHECK_PATTERNS).get(f"pg-{case.id}")
        finally:
            admin("drop", database)
    log("postgres: socket writes counted")
    return counts
