"""Section 7, the fan-out: its tables, and the fields the analysis quotes."""

from __future__ import annotations

import os

from ..workloads import fanout as wl
from .fmt import med, ms

HEADING = "## 7. Fan-out"


def rows(part: dict) -> list[dict]:
    """One row per case: label, workers, median and min wall time (in-process, s),
    targets/s, speed-up over the sequential loop (medians), the client's CPUs and the
    machine's busy and I/O-waiting CPUs (medians)."""
    runs = part["runs"]
    loop = med([r.ns for r in runs[wl.LOOP]]) / 1e9
    out = []
    for case in wl.cases("sqlite"):
        if case.id not in runs:
            continue
        rs = runs[case.id]
        m = med([r.ns for r in rs]) / 1e9
        out.append({
            "id": case.id,
            "label": case.label,
            "jobs": case.jobs,
            "median": m,
            "min": min(r.ns for r in rs) / 1e9,
            "rate": part["count"] / m,
            "speedup": loop / m,
            "client_cpus": med([r.cpu / r.wall for r in rs]),
            "busy": med([r.machine[0] for r in rs]),
            "iowait": med([r.machine[1] for r in rs]),
            "server": (med([r.server_cpus for r in rs])
                       if all(getattr(r, "server_cpus", None) is not None for r in rs) else None),
            # CPU time per target, ms: the client's, and the server's
            "client_ms": med([r.cpu / part["count"] * 1000 for r in rs]),
            "server_ms": (med([r.server_cpus * r.wall / part["count"] * 1000 for r in rs])
                          if all(getattr(r, "server_cpus", None) is not None for r in rs) else None),
        })
    return out


def table(part: dict) -> list[str]:
    measured = rows(part)
    server = all(row["server"] is not None for row in measured)
    lines = ["| tool | workers | wall time, median (min) | targets/s | speed-up over the loop "
             f"| client CPU |{' server CPU |' if server else ''} machine: busy CPUs, waiting for I/O |",
             "|---|---|---|---|---|---|---|" + ("---|" if server else "")]
    for row in measured:
        lines.append(
            f"| {row['label']} | {row['jobs'] or 1} | {ms(row['median'])} ({ms(row['min'])}) | "
            f"{row['rate']:,.0f} | {row['speedup']:.2f}x | {row['client_cpus']:.2f} | "
            + (f"{row['server']:.2f} | " if server else "")
            + f"{row['busy']:.2f}, {row['iowait']:.2f} |")
    return lines


def section(data: dict) -> list[str]:
    """Section 7 of the page: the fan-out tables, or a note that they were not measured."""
    fan = data.get("fanout")
    lines: list[str] = []
    w = lines.append
    w(f"{HEADING}: one migrator over many databases (`Migrator::fan_out`, issue 13)")
    w("")
    if not fan:
        w("Not measured in this run; `python3 bench/run.py only fanout` measures it.")
        w("")
        return lines
    sq = fan["sqlite"]
    stopped = (f" (the run was stopped after {fan['reps']} of the {fan['asked']} rounds asked for)"
               if fan["reps"] < fan.get("asked", fan["reps"]) else "")
    w(f"Written by `python3 bench/run.py only fanout` on {fan['date']}: {fan['reps']} samples "
      f"of each{stopped}, the cases interleaved (the order rotates each round); median (min). Every "
      f"target gets the same {wl.MIGRATIONS} migrations (two tables with an index each, then "
      "a third table; `bench/tools/migrate/src/bin/migrate-fanout.rs`), each in a "
      "transaction of its own. The time is in-process, from before the first target is "
      "opened to after the last is closed, in one process per sample; the speed-up is the "
      "median of migrate's loop over the row's (sqlx's row too: below 1.00x, slower than "
      "migrate's loop). *Client CPU*: the process's user and system time over "
      "its wall time (1.00 = one CPU kept busy); *server CPU* (PostgreSQL): the same for "
      "the server's processes, the backends of the run's connections included (read from "
      "`/proc`: the postmaster's own time, its live processes' and the time of those it "
      "reaped; another client of the server would count too). *Machine*: how many of the machine's "
      f"{fan['cpus']} CPUs were busy, and how many idle waiting for I/O, while it ran (`/proc/stat`: "
      "every process, the PostgreSQL server's included, and whatever else this shared "
      f"machine ran). The 1-minute load average was {fan['load']:.1f} at the end.")
    w("")
    pg_count = (fan.get("postgres") or {}).get("count", 1000)
    if sq["count"] < 10_000 or pg_count < 1000:
        w(f"**Smaller than issue 13's 10,000 files and 1,000 schemas**: this run measured "
          f"{sq['count']:,} files and {pg_count:,} schemas (`--fanout-count`, `--fanout-pg-count`; "
          "the analysis below says why).")
        w("")
    w("The rows: `migrate-fanout sqlite-loop`/`pg-loop`, a `for` loop calling the same API one "
      "target after the other (`Sqlite::open` or `Postgres::connect`, then `to_latest`); "
      "`sqlite-fanout`/`pg-fanout`, `migrator.fan_out().jobs(N).run(targets, open, "
      "|m, db| m.to_latest(db), ..)`; and sqlx 0.9 in a `for` loop, `sqlx::migrate!` over the "
      "same SQL, a pool of one connection per target, closed before the next.")
    w("")
    # Not "### PostgreSQL" or "### Fan-out": the analysis's headings, which the splices find.
    w(f"### 7.1 SQLite: {sq['count']:,} files")
    w("")
    w("Files `tenant00001.db` .. in a new folder per sample, created by opening them "
      "(journal mode DELETE, `synchronous` FULL, the defaults of both tools); the folder is "
      "removed after (not timed).")
    w("")
    lines.extend(table(sq))
    w("")
    fsyncs = fan.get("fsyncs") or {}
    labels = wl.labels()
    if fsyncs:
        w("fsync and fdatasync calls per file (`strace -f -c`, one run of 10 files each): " +
          "; ".join(f"{labels[key]}: {calls:.0f}" for key, calls in fsyncs.items()) + ".")
        w("")
    pg = fan.get("postgres")
    if pg:
        s = pg["server"] or {}
        w(f"### 7.2 PostgreSQL: {pg['count']:,} schemas")
        w("")
        w(f"Schemas `tenant0001` .. in a new database per sample, created before the measured "
          "command and dropped with the database after (neither timed). Each target is a "
          "connection of its own (`Postgres::connect(url)?.schema(name)`, then `SET "
          "search_path TO name`; sqlx: `options=-c search_path=name`), so the history and "
          "the tables go in the target's schema. PostgreSQL "
          f"{s.get('server_version', '?')} on this machine over TCP loopback (`{pg['url']}`), "
          f"`synchronous_commit = {s.get('synchronous_commit', '?')}`.")
        w("")
        lines.extend(table(pg))
        w("")
    else:
        w("PostgreSQL: not measured in this run (no server answered at "
          "`MIGRATE_BENCH_POSTGRES`, or `--fanout-pg-count 0`).")
        w("")
    return lines


def fields(data: dict) -> dict:
    """The fan-out figures the analysis quotes; `n/a` when they were not measured."""
    fan = data.get("fanout")
    fields: dict = {}
    for side in ("sq", "pg"):
        part = fan and fan["sqlite" if side == "sq" else "postgres"]
        by = {row["jobs"] or row["id"]: row for row in rows(part)} if part else {}
        fields[f"fo_{side}_count"] = f"{part['count']:,}" if part else "n/a"
        for key, row in [*((j, by.get(j)) for j in wl.JOBS), ("loop", by.get(wl.LOOP)),
                         ("sqlx", by.get(wl.SQLX_LOOP))]:
            fields[f"fo_{side}_{key}_time"] = ms(row["median"]) if row else "n/a"
            fields[f"fo_{side}_{key}_rate"] = f"{row['rate']:,.0f}" if row else "n/a"
            fields[f"fo_{side}_{key}_speedup"] = f"{row['speedup']:.2f}x" if row else "n/a"
            fields[f"fo_{side}_{key}_cpu"] = f"{row['client_cpus']:.2f}" if row else "n/a"
            fields[f"fo_{side}_{key}_busy"] = f"{row['busy']:.2f}" if row else "n/a"
            fields[f"fo_{side}_{key}_iowait"] = f"{row['iowait']:.2f}" if row else "n/a"
            fields[f"fo_{side}_{key}_server"] = (f"{row['server']:.2f}" if row and row["server"] is not None
                                                 else "n/a")
            fields[f"fo_{side}_{key}_client_ms"] = f"{row['client_ms']:.1f} ms" if row else "n/a"
            fields[f"fo_{side}_{key}_server_ms"] = (f"{row['server_ms']:.1f} ms"
                                                    if row and row["server_ms"] is not None else "n/a")
        loop, eight = by.get(wl.LOOP), by.get(8)
        fields[f"fo_{side}_loop_min"] = ms(loop["min"]) if loop else "n/a"
        fields[f"fo_{side}_8_min_speedup"] = f"{loop['min'] / eight['min']:.2f}x" if loop and eight else "n/a"
        best = max((by[j] for j in wl.JOBS if j in by), key=lambda r: r["speedup"], default=None)
        fields[f"fo_{side}_best_jobs"] = str(best["jobs"]) if best else "n/a"
        fields[f"fo_{side}_best_speedup"] = f"{best['speedup']:.2f}x" if best else "n/a"
    fields["fo_cpus"] = str((fan or {}).get("cpus", os.cpu_count()))
    fsyncs = (fan or {}).get("fsyncs") or {}
    fields["fo_fsync_loop"] = f"{fsyncs[wl.LOOP]:.0f}" if wl.LOOP in fsyncs else "n/a"
    fields["fo_fsync_sqlx"] = f"{fsyncs[wl.SQLX_LOOP]:.0f}" if wl.SQLX_LOOP in fsyncs else "n/a"
    fields["fo_fsync_8"] = f"{fsyncs[wl.jobs_id(8)]:.0f}" if wl.jobs_id(8) in fsyncs else "n/a"
    fields["fo_date"] = (fan or {}).get("date", "n/a")
    return fields
