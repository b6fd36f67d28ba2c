"""Independent migrations at once on PostgreSQL, measured on index builds.

    python3 bench/indexes.py                 # 3,000,000 rows per table, 3 repeats
    python3 bench/indexes.py --rows 200000 --reps 1   # a smoke run

Three `CREATE INDEX CONCURRENTLY` migrations (`after = []`: none needs another), each on a
table of its own of ROWS rows (`id`, `md5(id)` text, the index on the text), applied by
`migrate-pg-indexes apply URL JOBS` (bench/tools/migrate/src/bin/migrate-pg-indexes.rs):
`Migrator::parallel(JOBS)`, JOBS = 1 (one at a time, as without the option), 2 and 3.
Each sample runs in a new database (`CREATE DATABASE`, the tables made and vacuumed, not
timed), dropped after; the job counts interleaved, the order rotating each repeat. The
time is the whole `to_latest`, connect included. Writes section 8, the region `indexes`
of docs/performance.md (`<!-- begin:indexes -->` to `<!-- end:indexes -->`, appended when
absent; the full report keeps it).

The server is `MIGRATE_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1/`).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import urllib.parse
from .proc import BENCH, ROOT, TARGET
from .report import splice

BINARY = TARGET / "release" / "migrate-pg-indexes"
PAGE = ROOT / "docs" / "performance.md"
PG_URL = os.environ.get("MIGRATE_BENCH_POSTGRES", "postgres://postgres@127.0.0.1/")


def url(database: str, options: str = "") -> str:
    parts = urllib.parse.urlsplit(PG_URL)
    query = parts.query
    if options:
        query = "&".join(filter(None, [query, "options=" + urllib.parse.quote(options)]))
    return urllib.parse.urlunsplit(parts._replace(path="/" + database, query=query))


# The two series: PostgreSQL's own parallel workers for one index build as the server
# has them, and none (one CPU per build), set for the migrating sessions only.
SERIES = {
    "server": "",
    "one CPU per build": "-c max_parallel_maintenance_workers=0",
}


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", url(database), "-qAtc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def run(command: list[str]) -> dict[str, str]:
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.split() if "=" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows per table")
    parser.add_argument("--reps", type=int, default=3, help="repeats of each job count")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()

    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "migrate-pg-indexes"],
        cwd=BENCH / "tools" / "migrate",
        env=dict(os.environ, CARGO_TARGET_DIR=str(TARGET)),
        check=True,
    )
    load = os.getloadavg()[0]
    cases = [(series, jobs) for series in SERIES for jobs in args.jobs]
    samples: dict[tuple[str, int], list[dict[str, str]]] = {case: [] for case in cases}
    for rep in range(args.reps):
        order = cases[rep % len(cases):] + cases[: rep % len(cases)]
        for series, jobs in order:
            database = f"bench_indexes_{jobs}_{rep}"
            psql(f"DROP DATABASE IF EXISTS {database}")
            psql(f"CREATE DATABASE {database}")
            try:
                run([str(BINARY), "setup", url(database), str(args.rows)])
                apply_url = url(database, SERIES[series])
                samples[series, jobs].append(run([str(BINARY), "apply", apply_url, str(jobs)]))
            finally:
                psql(f"DROP DATABASE IF EXISTS {database}")
            print(f"rep {rep + 1}/{args.reps}, {series}, {jobs} at once: "
                  f"{int(samples[series, jobs][-1]['ns']) / 1e9:.2f} s", flush=True)
    write(args, samples, (load, os.getloadavg()[0]))


def write(args, samples: dict[tuple[str, int], list[dict[str, str]]],
          load: tuple[float, float]) -> None:
    seconds = {case: statistics.median(int(s["ns"]) / 1e9 for s in runs)
               for case, runs in samples.items()}
    each = {case: statistics.median(int(s[f"m{v}_ns"]) / 1e9 for s in runs for v in (1, 2, 3))
            for case, runs in samples.items()}
    settings = {name: psql(f"SHOW {name}") for name in
                ("server_version", "max_parallel_maintenance_workers", "maintenance_work_mem")}
    lines = [
        "## 8. Independent migrations at once (PostgreSQL index builds)",
        "",
        f"Written by `python3 bench/indexes.py` on {datetime.date.today().isoformat()}: three "
        f"`CREATE INDEX CONCURRENTLY` migrations that need none of each other (`after = []`), "
        f"each on a table of {args.rows:,} rows (an `md5` text column, the index on it), applied "
        f"with `Migrator::parallel(JOBS)` (`migrate up --parallel JOBS`); each sample in a new "
        f"database, medians of {args.reps} repeats, the cases interleaved. This machine: "
        f"{os.cpu_count()} CPUs; PostgreSQL {settings['server_version'].split()[0]}, "
        f"`max_parallel_maintenance_workers` = {settings['max_parallel_maintenance_workers']} "
        f"(PostgreSQL's own workers for one index build), `maintenance_work_mem` = "
        f"{settings['maintenance_work_mem']}. Two series: the server as it is, and one CPU per "
        f"build (`max_parallel_maintenance_workers=0` for the migrating sessions), as on a "
        f"server that keeps its cores for queries. Load average at the start and the end: "
        f"{load[0]:.1f}, {load[1]:.1f} (other work on the machine makes single samples move).",
        "",
        "| series | migrations at once | the three, start to end | each build (median) | speed-up |",
        "|---|---|---|---|---|",
    ]
    for series in SERIES:
        jobs_list = sorted(j for s, j in seconds if s == series)
        one = seconds[series, jobs_list[0]]
        for jobs in jobs_list:
            lines.append(
                f"| {series} | {jobs}{' (one at a time)' if jobs == 1 else ''} | "
                f"{seconds[series, jobs]:.2f} s | {each[series, jobs]:.2f} s | "
                f"{one / seconds[series, jobs]:.2f}x |")
    def best(series: str) -> tuple[int, float]:
        jobs_list = sorted(j for s, j in seconds if s == series)
        one = seconds[series, jobs_list[0]]
        top = min(jobs_list, key=lambda j: seconds[series, j])
        return top, one / seconds[series, top]
    server_best, one_best = best("server"), best("one CPU per build")
    lines += [
        "",
        f"What it shows on {os.cpu_count()} CPUs: an index build is CPU-bound (it sorts), so "
        f"builds at once share the CPUs and each takes longer. With PostgreSQL's own workers "
        f"already giving one build every CPU, running builds at once gains "
        f"{server_best[1]:.2f}x at best ({server_best[0]} at once); with one CPU per build, "
        f"{one_best[1]:.2f}x at {one_best[0]} at once, bounded by the CPU count. The option "
        f"pays where the builds leave resources idle: more cores than one build uses, builds "
        f"that wait on the disk, or migrations that wait (for locks, for older transactions, "
        f"for a remote server).",
    ]
    section = "\n".join(lines) + "\n"
    text = PAGE.read_text() if PAGE.exists() else ""
    PAGE.write_text(splice.splice(text, "indexes", section, before=()))
    print(section, end="")

