"""Section 6, PostgreSQL: its tables, and the fields the analysis quotes."""

from __future__ import annotations

import os

from ..proc import Run
from ..workloads import postgres as wl
from .fmt import med, ms, ratio

HEADING = "## 6. PostgreSQL"


def medians(pg: dict) -> tuple[dict, dict]:
    apply = {key: med([r.ns for r in runs]) / 1e9 for key, runs in pg["apply"].items()}
    check = {key: med([r.ns for r in runs]) / 1e9 for key, runs in pg["check"].items()}
    return apply, check


def fastest(pg: dict) -> dict:
    """migrate's fastest run against the floor's, apply at the largest N and check: the
    commits' waits on a shared disk move the medians more than the minimums."""
    n_max = max(pg["ns"])
    m = wl.MIGRATE
    fastest = lambda runs: min(r.ns for r in runs) / 1e9
    pairs = {
        "apply": (fastest(pg["apply"][(n_max, m)]), fastest(pg["apply"][(n_max, wl.RAW_ID)])),
        "check": (fastest(pg["check"][m]), fastest(pg["check"][wl.RAW_ID])),
    }
    return {key: f"{ms(a)} vs {ms(b)} = {ratio(a, b)}" for key, (a, b) in pairs.items()}


def connect_split(runs: list[Run]) -> tuple[str, str]:
    """Median (min) of the time to connect and of the rest, where the tool printed it."""
    connect = [float(r.values["connect_ns"]) / 1e9 for r in runs if "connect_ns" in r.values]
    if len(connect) != len(runs):
        return "", ""
    rest = [r.ns / 1e9 - c for r, c in zip(runs, connect)]
    return tuple(f"{ms(med(v))} ({ms(min(v))})" for v in (connect, rest))


def section(data: dict) -> list[str]:
    """Section 6 of the page: the PostgreSQL tables, or a note that they were skipped."""
    pg = data.get("postgres")
    lines: list[str] = []
    w = lines.append
    w(f"{HEADING}: applying N and the start-up check")
    w("")
    if "postgres" not in data:
        w("Not measured in this run (`--quick`); `python3 bench/run.py only postgres` "
          "measures it.")
        w("")
        return lines
    if not pg:
        w("Not measured in this run: no PostgreSQL server answered at `MIGRATE_BENCH_POSTGRES` "
          "(default `postgres://postgres@127.0.0.1/`). Start one and run `python3 bench/run.py "
          "only postgres`.")
        w("")
        return lines
    s = pg["server"]
    apply, check = medians(pg)
    ns = pg["ns"]
    n_max = max(ns)
    floor = apply[(n_max, wl.RAW_ID)]
    migrate_apply = apply[(n_max, wl.MIGRATE)]
    floor_check = check[wl.RAW_ID]
    migrate_check = check[wl.MIGRATE]
    verdict = lambda ok: "**met**" if ok else "**missed**"
    w(f"Written by `python3 bench/run.py only postgres` (or the full run) on {pg['date']}: "
      f"{pg['reps']} samples of each, the tools interleaved (the order rotates each round); "
      f"median (min) and the median over the raw floor's. PostgreSQL {s.get('server_version', '?')} "
      f"on this machine, reached over TCP loopback (`{pg['url']}`), with the server's own "
      f"settings: `synchronous_commit = {s.get('synchronous_commit', '?')}`, `fsync = "
      f"{s.get('fsync', '?')}`, `wal_sync_method = {s.get('wal_sync_method', '?')}`, so each "
      "commit waits for its WAL flush. Each sample runs in a database of its own, created "
      "before and dropped after it (not timed). In-process time, from before connecting to "
      "after the work is done (apply: the connection closed; check: the answer known). The "
      f"1-minute load average was {pg['load']:.1f} at the end (`nproc` = {os.cpu_count()}).")
    w("")
    best = fastest(pg)
    w("| target | measured: medians; the fastest runs | |")
    w("|---|---|---|")
    w(f"| apply {n_max}, one transaction each: within 1.10x of the raw floor | "
      f"{ms(migrate_apply)} vs {ms(floor)} = {ratio(migrate_apply, floor)}; "
      f"{best['apply']} | {verdict(migrate_apply <= 1.10 * floor)} (medians) |")
    w(f"| start-up check, {wl.PG_CHECK_N} applied: within 1.10x of the floor's history read | "
      f"{ms(migrate_check)} vs {ms(floor_check)} = {ratio(migrate_check, floor_check)}; "
      f"{best['check']} | {verdict(migrate_check <= 1.10 * floor_check)} (medians) |")
    w("")
    w("### Applying N migrations, each in a transaction of its own with its history row")
    w("")
    w("What each tool sends per migration (read from its traffic, `strace -yy -e trace=sendto`; "
      "the round trips are counted in the last table):")
    w("")
    w("- raw floor: `BEGIN`; the `CREATE TABLE`; the history row through a statement prepared "
      "once per connection; `COMMIT`. One commit.")
    w("- raw, one round trip: the same four statements as one simple query, the history row "
      "as literals. One commit.")
    w("- migrate: `BEGIN; SET LOCAL migrate.step = ..; SET LOCAL lock_timeout = ..` (one simple "
      "query); the `CREATE TABLE`; the history row through a statement prepared once per "
      "connection; `COMMIT`. One commit. Once per run besides: `SELECT current_schema()` at "
      "connect, the history read, the advisory lock and its check in `pg_locks`, the history "
      "table's shape (`information_schema`), its `CREATE TABLE IF NOT EXISTS`, the history "
      "read again under the lock, the unlock.")
    w("- refinery: `START TRANSACTION`; the `CREATE TABLE`; `COMMIT`; then `START TRANSACTION`; "
      "the history row (`INSERT` with literals); `COMMIT`. Two commits: the history row is "
      "written in a transaction of its own, after the migration's.")
    w("- sqlx: `BEGIN`; the migration's SQL; the history row (a prepared statement); `COMMIT`; "
      "then `UPDATE _sqlx_migrations SET execution_time = ..`, autocommitted. Two commits.")
    w("- diesel (libpq): `BEGIN`; the `up.sql`; the history row (a prepared statement); "
      "`COMMIT`. One commit.")
    w("")
    w("| tool | " + " | ".join(f"N = {n}" for n in ns) + " |")
    w("|---|" + "---|" * len(ns))
    for case in wl.apply_cases(ns[0]):
        cells = []
        for n in ns:
            runs = pg["apply"][(n, case.id)]
            m = apply[(n, case.id)]
            cells.append(f"{ms(m)} ({ms(min(r.ns for r in runs) / 1e9)}) {m / apply[(n, wl.RAW_ID)]:.2f}x")
        w(f"| {case.label} | " + " | ".join(cells) + " |")
    w("")
    w(f"### Start-up check with {wl.PG_CHECK_N} applied")
    w("")
    w("Connect, read the history, find nothing to do. One check is run first and not "
      "counted, so each tool meets a server that has its tables in cache.")
    w("")
    w("| tool | in-process | over the floor | of which connecting | after connecting | process (spawn to exit) |")
    w("|---|---|---|---|---|---|")
    for case in wl.check_cases(wl.PG_CHECK_N):
        runs = pg["check"][case.id]
        split = connect_split(runs)
        w(f"| {case.label} | {ms(check[case.id])} ({ms(min(r.ns for r in runs) / 1e9)}) | "
          f"{ratio(check[case.id], floor_check)} | {split[0]} | {split[1]} | "
          f"{ms(med([r.wall for r in runs]))} |")
    w("")
    w("Connecting and after: the floor and migrate print the time their connect call took "
      "(`connect_ns`: for migrate `Postgres::connect`, which asks the server for "
      "`current_schema()` too); median (min) of each part over the same runs.")
    w("")
    writes = pg.get("writes") or {}
    cg_raw, cg_migrate = (writes.get(("callgrind", label)) for label in (wl.RAW_ID, wl.MIGRATE))
    if cg_raw and cg_migrate:
        w(f"Instructions of one start-up check with {wl.PG_CHECK_N} applied, the client's side "
          "(valgrind callgrind; inclusive: a part includes what it calls, so the rows overlap):")
        w("")
        w("| part | raw floor | migrate |")
        w("|---|---|---|")
        cell = lambda c, key: f"{c.get(key, 0):,}" if c.get(key) else ""
        for key, name in (
            ("total", "the whole process"),
            ("connect", "connecting (`postgres::Client::connect`; migrate: `Postgres::connect`)"),
            ("simple_query", "simple queries (`Client::simple_query`, every row received)"),
            ("discovered", "`Migrator::discovered` (discovery, its sort)"),
            ("read_applied", "`Backend::read_applied_unless_up_to_date`: the history read and its rows"),
            ("read_applied_raw", "of which `read_applied_raw` (the query, every row received)"),
            ("up_to_date", "of which `history::up_to_date` (the rows compared in place)"),
            ("plan", "`plan::plan`"),
        ):
            w(f"| {name} | {cell(cg_raw, key)} | {cell(cg_migrate, key)} |")
        w("")
    if writes:
        small, large = ns[0], ns[1] if len(ns) > 1 else ns[0]
        w("### Round trips (client writes to the socket, strace)")
        w("")
        w("Each tool's writes to the server's TCP socket in one run (`strace -f -yy -e "
          "trace=write,writev,sendto,sendmsg`, the writes to other descriptors left out). "
          "Every client here waits for the server's answer after each write, so each write "
          "is a round trip, except the last, the Terminate message that closes the "
          "connection: a start-up check of W writes made W - 1 round trips, the start-up "
          f"message among them. Per migration: (writes applying {large} - writes applying "
          f"{small}) / {large - small}, which leaves out connecting and the one-time setup.")
        w("")
        w(f"| tool | applying {small} | applying {large} | per migration | start-up check, {wl.PG_CHECK_N} applied |")
        w("|---|---|---|---|---|")
        checked = {case.id for case in wl.check_cases(wl.PG_CHECK_N)}
        for case in wl.apply_cases(small):
            a, b = writes.get(("apply", case.id, small)), writes.get(("apply", case.id, large))
            per = f"{(b - a) / (large - small):.2f}" if a is not None and b is not None else "n/a"
            c = writes.get(("check", case.id)) if case.id in checked else None
            w(f"| {case.label} | {a} | {b} | {per} | {c if c is not None else ''} |")
        w("")
    return lines


def fields(data: dict) -> dict:
    """The PostgreSQL figures the analysis quotes; `n/a` when they were not measured."""
    pg = data.get("postgres")
    keys = (*(f"pg_cg_{side}_{key}" for side in ("raw", "migrate") for key in ("total", *wl.PG_CHECK_PATTERNS)),
            "pg_raw_connect", "pg_raw_after", "pg_migrate_connect", "pg_migrate_after", "pg_small_n", "pg_migrate_writes_small", "pg_raw_writes_small", "pg_n", "pg_check_n", "pg_apply_fastest", "pg_check_fastest", "pg_migrate_apply", "pg_raw_apply", "pg_apply_ratio", "pg_one_trip_ratio",
            "pg_migrate_check", "pg_raw_check", "pg_check_ratio", "pg_sync_commit",
            "pg_migrate_writes_per", "pg_raw_writes_per", "pg_migrate_check_writes",
            "pg_raw_check_writes", "pg_refinery_ratio", "pg_sqlx_ratio", "pg_diesel_ratio",
            "pg_refinery_check_ratio", "pg_sqlx_check_ratio", "pg_diesel_check_ratio")
    if not pg:
        return {key: "n/a" for key in keys}
    apply, check = medians(pg)
    n_max = max(pg["ns"])
    small, large = pg["ns"][0], pg["ns"][1] if len(pg["ns"]) > 1 else pg["ns"][0]
    writes = pg.get("writes") or {}

    def per(key):
        a, b = writes.get(("apply", key, small)), writes.get(("apply", key, large))
        return f"{(b - a) / (large - small):.2f}" if a is not None and b is not None else "n/a"

    m = wl.MIGRATE
    fields = {
        "pg_migrate_apply": ms(apply[(n_max, m)]),
        "pg_raw_apply": ms(apply[(n_max, wl.RAW_ID)]),
        "pg_apply_ratio": ratio(apply[(n_max, m)], apply[(n_max, wl.RAW_ID)]),
        "pg_one_trip_ratio": ratio(apply[(n_max, wl.ONE_TRIP)], apply[(n_max, wl.RAW_ID)]),
        "pg_migrate_check": ms(check[m]),
        "pg_raw_check": ms(check[wl.RAW_ID]),
        "pg_check_ratio": ratio(check[m], check[wl.RAW_ID]),
        "pg_sync_commit": pg["server"].get("synchronous_commit", "?"),
        "pg_n": str(n_max),
        "pg_apply_fastest": fastest(pg)["apply"],
        **{f"pg_cg_{side}_{key}": f"{(writes.get(('callgrind', key_)) or {}).get(key, 0):,}"
           for side, key_ in (("raw", wl.RAW_ID), ("migrate", m))
           for key in ("total", *wl.PG_CHECK_PATTERNS)},
        **{f"pg_{side}_{part}": connect_split(pg["check"][key_])[i] or "n/a"
           for side, key_ in (("raw", wl.RAW_ID), ("migrate", m))
           for i, part in enumerate(("connect", "after"))},
        "pg_check_fastest": fastest(pg)["check"],
        "pg_check_n": str(wl.PG_CHECK_N),
        "pg_migrate_writes_per": per(m),
        "pg_raw_writes_per": per(wl.RAW_ID),
        "pg_migrate_check_writes": str(writes.get(("check", m), "n/a")),
        "pg_small_n": str(small),
        "pg_migrate_writes_small": str(writes.get(("apply", m, small), "n/a")),
        "pg_raw_writes_small": str(writes.get(("apply", wl.RAW_ID, small), "n/a")),
        "pg_raw_check_writes": str(writes.get(("check", wl.RAW_ID), "n/a")),
    }
    for peer in wl.PEERS:
        fields[f"pg_{peer}_ratio"] = ratio(apply[(n_max, peer)], apply[(n_max, wl.RAW_ID)])
        fields[f"pg_{peer}_check_ratio"] = ratio(check[peer], check[wl.RAW_ID])
    return fields
