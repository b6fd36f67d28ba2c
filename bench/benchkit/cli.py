"""The benchmark of migrate against its peers, in one command.

    python3 bench/run.py run             # the full run; writes docs/performance.md
    python3 bench/run.py run --quick     # a smoke run (N = 10 and 100, 2 repeats, no build
                                         # cost); writes bench/target/performance-quick.md
    python3 bench/run.py report          # the page again from the last run's saved results
    python3 bench/run.py only check      # the start-up check alone, into the page
    python3 bench/run.py only postgres   # section 6 alone, into the page
    python3 bench/run.py only fanout     # section 7 alone, into the page
    python3 bench/run.py only fk         # workload 6 alone; prints its table

Builds every tool of bench/tools/ in release mode (each is its own Cargo workspace: the
peers pin different rusqlite versions, and `links = "sqlite3"` allows one per build), runs
the workloads with the tools interleaved, each repeated, and writes the report. Every
process is timed from spawn to exit and its max RSS read from wait4(); the tools also
print the in-process time of the call an application makes. Needs Python 3.9+ and cargo;
uses strace and valgrind when present (fsync counts, instruction counts). Results are
saved as JSON in bench/target/results/.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from pathlib import Path

from . import results, tools
from .proc import BENCH, ROOT, SCRATCH, TARGET, cargo, log, new_scratch
from .report import fk as fk_report
from .report import page, partial
from .results import Settings
from .workloads import apply, build_cost, check, discovery, fanout, fk, postgres

JOURNALS = ["delete", "wal"]


def ns_of(quick: bool) -> list[int]:
    return [10, 100] if quick else [10, 100, 1000]


def default_out(quick: bool) -> Path:
    return TARGET / "performance-quick.md" if quick else ROOT / "docs" / "performance.md"


def with_last_fanout(data: dict) -> dict:
    """`data` with the last `only fanout` run's results when it has none of its own."""
    if data.get("fanout") or not results.exists("fanout"):
        return data
    fan, _ = results.load("fanout")
    return {**data, "fanout": fan}


def write_page(s: Settings, data: dict, out: Path) -> None:
    page.write(s, with_last_fanout(data), out)


def merge_into_full_run(args, update) -> bool:
    """`update(results, settings)` applied to the last full run's saved results, saved
    again, and the whole page written from them; False (nothing done) when no full run is
    saved, with `--quick`, or when `update` returns False (results that do not fit)."""
    if args.quick or not results.exists("full"):
        return False
    merged, settings = results.load("full")
    if not update(merged, settings):
        return False
    results.save("full", merged, settings)
    write_page(settings, merged, args.out or default_out(False))
    return True


def existing_page(args) -> Path:
    """The page a partial run writes into: `--out`, or the report of the last run."""
    out = args.out or default_out(args.quick)
    if not out.exists():
        raise SystemExit(f"{out} does not exist: run the full benchmark first, or give --out a copy of a report")
    return out


def into_page(args, what: str, change) -> None:
    """`change(text)` applied to the existing page."""
    out = existing_page(args)
    out.write_text(change(out.read_text()))
    log(f"wrote the {what} rows into {out}")


# ---------------------------------------------------------------------------------------
# run


def cmd_run(args) -> None:
    s = Settings(quick=args.quick, reps=args.reps or (2 if args.quick else 5), ns=ns_of(args.quick),
                 journals=JOURNALS)
    out = args.out or default_out(args.quick)
    kind = "quick" if args.quick else "full"
    started = time.perf_counter()
    data: dict = {"date": datetime.date.today().isoformat()}
    new_scratch()
    tools.build(tools.TOOL_NAMES)
    data["crates"] = tools.crate_versions()
    data["versions"] = tools.sqlite_versions()
    data["macro_deps"], data["macro_deps_ok"] = tools.macro_dependencies()

    log("workload 1 and 4: apply")
    data["apply"] = apply.run(s.ns, s.journals, s.reps)
    log("workload 2: start-up check")
    data["check"], paths = check.run(s.ns, s.reps)
    log("workload 3: discovery")
    data["discovery"] = discovery.run(s.reps)
    log("workload 6: one migration beside 1,000,000 untouched rows")
    data["fk"] = fk.run(s.reps)
    if not s.quick:
        log("workload 7: PostgreSQL")
        data["postgres"] = postgres.run(s.reps)

    n_max = max(s.ns)
    data["breakdown"] = check.breakdown(paths, n_max)
    data["fsync_n"] = 100
    data["fsync"] = apply.fsync_counts(100)
    data["callgrind"] = check.startup_callgrind(paths, n_max)
    data["callgrind_small"] = check.startup_callgrind_small(paths, s.ns)
    data["startup_date"] = data["date"]
    data["callgrind_apply"] = apply.callgrind_one(n_max)
    data["callgrind_apply_per"] = apply.callgrind_per(n_max)
    data["callgrind_discovery"] = discovery.instructions()

    if not s.quick and not args.no_build_cost:
        # The page without the build cost first: the clean builds take many minutes, and
        # a run stopped during them keeps everything else.
        data["elapsed"] = time.perf_counter() - started
        results.save(kind, data, s)
        write_page(s, data, out)
        log("workload 5: build cost (clean release builds, a few minutes)")
        data["build"] = build_cost.run()
        data["build_jobs"] = os.environ.get("CARGO_BUILD_JOBS")
    data["elapsed"] = time.perf_counter() - started
    results.save(kind, data, s)
    write_page(s, data, out)


# ---------------------------------------------------------------------------------------
# report


def write_postgres(args, pg: dict) -> None:
    """Section 6 from `pg` into the last full run's page, or into the existing page."""

    def update(merged: dict, _settings) -> bool:
        merged["postgres"] = pg
        return True

    if not merge_into_full_run(args, update):
        into_page(args, "PostgreSQL", lambda text: partial.postgres_page(text, {"postgres": pg}))


def write_fanout(args, fan: dict) -> None:
    """Section 7 from `fan` into the last full run's page, or into the existing page."""

    def update(merged: dict, _settings) -> bool:
        merged["fanout"] = fan
        return True

    if not merge_into_full_run(args, update):
        into_page(args, "fan-out", lambda text: partial.fanout_page(text, {"fanout": fan}))


def write_check(args, s: Settings, data: dict) -> None:
    """The start-up rows from `data` into the last full run's results and page (when it
    measured the same N), or into the existing page."""

    def update(merged: dict, full: Settings) -> bool:
        if full.ns != s.ns:
            return False
        for key in ("check", "breakdown", "callgrind", "callgrind_small", "startup_date", "without"):
            merged[key] = data.get(key)
        full.reps_check = s.reps
        return True

    if not merge_into_full_run(args, update):
        into_page(args, "start-up", lambda text: partial.startup_page(text, s, data))


def cmd_report(args) -> None:
    if args.part == "page":
        kind = "quick" if args.quick else "full"
        data, s = results.load(kind)
        write_page(s, data, args.out or default_out(args.quick))
    elif args.part == "postgres":
        write_postgres(args, results.load("postgres")[0])
    elif args.part == "fanout":
        write_fanout(args, results.load("fanout")[0])
    else:
        data, s = results.load("check")
        write_check(args, s, data)


# ---------------------------------------------------------------------------------------
# only


def only_check(args) -> None:
    """The start-up workload, its breakdown and its instruction counts, merged into the
    last full run's results when they are saved here, else written into the start-up rows
    of the page that run wrote."""
    s = Settings(quick=args.quick, reps=args.reps or (2 if args.quick else 5), ns=ns_of(args.quick),
                 journals=JOURNALS)
    data: dict = {"date": datetime.date.today().isoformat()}
    data["startup_date"] = data["date"]
    new_scratch()
    tools.build([name for name in tools.TOOL_NAMES if name not in args.without])
    data["without"] = list(args.without)
    log("workload 2: start-up check")
    data.update(check.measure(s.ns, s.reps, args.without))
    results.save("check", data, s)
    write_check(args, s, data)


def only_postgres(args) -> None:
    """Section 6 alone, merged into the last full run's results when they are saved here,
    else written into the existing page (section 6 and the analysis's PostgreSQL
    subsection replaced or added; every other row stays as it was)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    tools.build(["raw", "migrate", "refinery", "sqlx", "diesel"])
    log("workload 7: PostgreSQL")
    pg = postgres.run(args.reps or 5)
    results.save("postgres", pg)
    write_postgres(args, pg)


def only_fanout(args) -> None:
    """Section 7 alone, saved (the full report reads it too), and written into the last
    full run's page when its results are saved here, else into the existing page
    (section 7 and the analysis's fan-out subsection replaced or added)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    tools.build(["migrate", "sqlx", "raw"], only={"migrate": ["--bin", "migrate-fanout"]})
    reps = args.reps or 3
    log(f"fan-out: {args.fanout_count} SQLite files, {args.fanout_pg_count} PostgreSQL schemas, {reps} rounds")

    def save(fan: dict) -> None:
        results.save("fanout", fan)
        write_fanout(args, fan)

    fanout.run(reps, args.fanout_count, args.fanout_pg_count, save)


def only_fk(args) -> None:
    """Workload 6 alone; prints its table, writes nothing else."""
    if args.binary is None:
        cargo(["build", "--release", "--bin", "migrate-n10", "--manifest-path",
               str(BENCH / "tools" / "migrate" / "Cargo.toml")], target_dir=TARGET)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    print(fk_report.table(fk.run(args.reps or 5, args.binary)))


# ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="bench/run.py", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    page_options = argparse.ArgumentParser(add_help=False)
    page_options.add_argument("--out", type=Path, help="the page to write (default docs/performance.md; "
                              "with --quick bench/target/performance-quick.md)")
    page_options.add_argument("--quick", action="store_true",
                              help="N = 10 and 100, 2 repeats; the quick run's page, not the full run's")
    reps = argparse.ArgumentParser(add_help=False)
    reps.add_argument("--reps", type=int, help="repeats of each workload (default 5; --quick: 2; fanout: 3)")

    run = commands.add_parser("run", parents=[page_options, reps], help="every workload; writes the page",
                              description="Builds the tools, runs every workload, writes the page "
                              "(about 15 minutes; --quick: a minute, no PostgreSQL, no build cost).")
    run.add_argument("--no-build-cost", action="store_true", help="skip the clean builds of workload 5")
    run.set_defaults(func=cmd_run)

    report = commands.add_parser("report", parents=[page_options],
                                 help="the page again from saved results",
                                 description="Writes the page again from the saved results "
                                 "(bench/target/results/): the whole page from the last full (or "
                                 "--quick) run, or one part from the last `only` run of it.")
    report.add_argument("part", nargs="?", default="page", choices=["page", "check", "postgres", "fanout"],
                        help="page (default): the whole page; check, postgres, fanout: that "
                        "part, into the last full run's results or the existing page")
    report.set_defaults(func=cmd_report)

    only = commands.add_parser("only", help="one workload alone, into the page",
                               description="One workload alone, merged into the last full run's "
                               "saved results and page when there are some, else written into its "
                               "regions of the existing page (every other byte stays).")
    parts = only.add_subparsers(dest="workload", required=True, metavar="WORKLOAD")
    c = parts.add_parser("check", parents=[page_options, reps], help="the start-up check (workload 2)",
                         description="The start-up check (workload 2), its breakdown and instruction "
                         "counts: the two start-up targets, section 2 and the analysis's start-up "
                         "subsection.")
    c.add_argument("--without", action="append", default=[], choices=list(check.PEERS),
                   help="leave out this peer's row (not built, say)")
    c.set_defaults(func=only_check)
    p = parts.add_parser("postgres", parents=[page_options, reps], help="the PostgreSQL workloads (section 6)",
                         description="The PostgreSQL workloads (section 6; 10 to 20 minutes with "
                         "--reps 7) against MIGRATE_BENCH_POSTGRES.")
    p.set_defaults(func=only_postgres)
    f = parts.add_parser("fanout", parents=[page_options, reps], help="the fan-out (section 7)",
                         description="The fan-out (section 7): many SQLite files and PostgreSQL "
                         "schemas, 1 to 8 workers against sequential loops; 3 repeats by default.")
    f.add_argument("--fanout-count", type=int, default=10_000, help="how many SQLite files (default 10,000)")
    f.add_argument("--fanout-pg-count", type=int, default=1000,
                   help="how many PostgreSQL schemas (default 1,000; 0: none)")
    f.set_defaults(func=only_fanout)
    k = parts.add_parser("fk", parents=[reps], help="workload 6, printed",
                         description="Workload 6 only (one migration beside 1,000,000 untouched rows); "
                         "prints its table, writes nothing else.")
    k.add_argument("--binary", type=Path, help="the migrate-n10 binary to measure (e.g. one built from an "
                   "older commit); default the one built here")
    k.set_defaults(func=only_fk)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)
