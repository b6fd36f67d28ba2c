#!/usr/bin/env python3
"""The benchmark of migrate against its peers, in one command.

    python3 bench/run.py            # the full run; writes docs/performance.md
    python3 bench/run.py --quick    # a smoke run (N = 10 and 100, 2 repeats, no build
                                    # cost); writes bench/target/performance-quick.md
    python3 bench/run.py --fk-only  # workload 6 only (the foreign-key check beside
                                    # 1,000,000 untouched rows); prints its table

Builds every tool of bench/tools/ in release mode (each is its own Cargo workspace: the
peers pin different rusqlite versions, and `links = "sqlite3"` allows one per build), runs
the workloads with the tools interleaved, each repeated, and writes the report. Every
process is timed from spawn to exit and its max RSS read from wait4(); the tools also
print the in-process time of the call an application makes. Needs Python 3.8+ and cargo;
uses strace and valgrind when present (fsync counts, instruction counts).
"""

from __future__ import annotations

import argparse
import datetime
import os
import pickle
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET = BENCH / "target"
RELEASE = TARGET / "release"
SCRATCH = TARGET / "scratch"
TOOLS = ["raw", "migrate", "rusqlite_migration", "refinery", "sqlx", "diesel"]
ENV = dict(os.environ, RUST_BACKTRACE="0", RUST_LOG="off")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Running things


class Run:
    """One process: wall time, CPU time and max RSS from wait4(), and its `key=value` lines."""

    def __init__(self, wall: float, cpu: float, rss_kib: int, values: dict[str, str]):
        self.wall = wall
        self.cpu = cpu
        self.rss_kib = rss_kib
        self.values = values

    @property
    def ns(self) -> float:
        return float(self.values["ns"])


GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def spawn(cmd: list[str], cwd: Path | None = None) -> Run:
    """Runs `cmd` to its end. Max RSS comes from GNU time when present: a child forked by
    this Python process would report Python's own RSS as its peak (Linux keeps the
    high-water mark of the memory it had before exec)."""
    rss_file = SCRATCH / "maxrss.txt"
    prefix = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] if GNU_TIME else []
    start = time.perf_counter()
    process = subprocess.Popen(
        [*prefix, *map(str, cmd)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=ENV,
    )
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(map(str, cmd))}\n{output}")
    values = dict(
        line.split("=", 1) for line in output.splitlines() if re.fullmatch(r"[a-z_0-9]+=\S+", line)
    )
    rss = int(rss_file.read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
    return Run(wall, usage.ru_utime + usage.ru_stime, rss, values)


def cargo(args: list[str], cwd: Path | None = None, target_dir: Path | None = None) -> tuple[float, str]:
    env = dict(ENV)
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    start = time.perf_counter()
    done = subprocess.run(["cargo", *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cargo {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return wall, done.stderr


def fresh(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:48]


def binary(name: str) -> Path:
    return RELEASE / name


RAW = binary("bench-raw")
RUSQLITE_MIGRATION = binary("bench-rusqlite-migration")
REFINERY = binary("bench-refinery")
SQLX = binary("bench-sqlx")
DIESEL = binary("bench-diesel")


def migrate_bin(n: int) -> Path:
    return binary(f"migrate-n{n}")


# ---------------------------------------------------------------------------------------
# The workloads


def apply_cases(n: int, journal: str) -> list[tuple[str, str, callable]]:
    """(group, label, command for a database path): per-migration transactions, then one."""
    m = migrate_bin(n)
    return [
        ("per", "raw floor (BEGIN IMMEDIATE, statement, history row, COMMIT)",
         lambda p: [RAW, "apply", p, n, journal, "per"]),
        ("per", "migrate", lambda p: [m, "apply", p, n, journal, "per"]),
        ("per", "refinery", lambda p: [REFINERY, "apply", p, n, journal, "per"]),
        ("per", "sqlx", lambda p: [SQLX, "apply", p, n, journal]),
        ("per", "diesel", lambda p: [DIESEL, "apply", p, n, journal]),
        ("one", "raw floor, all in one transaction", lambda p: [RAW, "apply", p, n, journal, "one"]),
        ("one", "migrate, all_or_nothing(true)", lambda p: [m, "apply", p, n, journal, "aon"]),
        ("one", "rusqlite_migration (no history rows)",
         lambda p: [RUSQLITE_MIGRATION, "apply", p, n, journal]),
        ("one", "refinery, set_grouped(true)", lambda p: [REFINERY, "apply", p, n, journal, "one"]),
    ]


RAW_CHECK = "raw floor (one history read)"
DEFAULT_CHECK = "migrate, the default (narrow history read)"
FAST_CHECK = "migrate, fast_start(true) (opt-in)"
RM_CHECK = "rusqlite_migration (header only, no history)"
PROCESS_FLOOR = "process floor (a Rust binary that does nothing)"

CHECK_TOOLS = [
    # (label, prepare command, check command), both given the path and N. Every row has
    # its own file: the fast start's apply keeps the fingerprint (and its companion table).
    (RAW_CHECK, lambda p, n: [RAW, "apply", p, n, "delete", "one"], lambda p, n: [RAW, "check", p, n]),
    (DEFAULT_CHECK,
     lambda p, n: [migrate_bin(n), "apply", p, n, "delete", "aon"],
     lambda p, n: [migrate_bin(n), "check", p, n]),
    (FAST_CHECK,
     lambda p, n: [migrate_bin(n), "apply", p, n, "delete", "aon", "fast"],
     lambda p, n: [migrate_bin(n), "check-fast", p, n]),
    (RM_CHECK,
     lambda p, n: [RUSQLITE_MIGRATION, "apply", p, n, "delete"],
     lambda p, n: [RUSQLITE_MIGRATION, "check", p, n]),
    ("refinery", lambda p, n: [REFINERY, "apply", p, n, "delete", "one"],
     lambda p, n: [REFINERY, "check", p, n]),
    ("sqlx", lambda p, n: [SQLX, "apply", p, n, "delete"], lambda p, n: [SQLX, "check", p, n]),
    ("diesel", lambda p, n: [DIESEL, "apply", p, n, "delete"], lambda p, n: [DIESEL, "check", p, n]),
]


def interleaved(cases: list, reps: int, run_one) -> dict:
    """Runs every case `reps` times, rotating the order each round so no tool always
    follows the same one."""
    results: dict = {key: [] for key, _ in cases}
    for rep in range(reps):
        shift = rep % len(cases)
        for key, make in cases[shift:] + cases[:shift]:
            results[key].append(run_one(key, make))
    return results


def bench_apply(ns: list[int], journals: list[str], reps: int) -> dict:
    results = {}
    for rep in range(reps):
        for n in ns:
            for journal in journals:
                cases = apply_cases(n, journal)
                shift = rep % len(cases)
                for group, label, make in cases[shift:] + cases[:shift]:
                    path = fresh(SCRATCH / "apply" / f"{slug(label)}.db")
                    run = spawn(make(path))
                    results.setdefault((n, journal, group, label), []).append(run)
        log(f"apply: round {rep + 1}/{reps} done")
    return results


def bench_check(ns: list[int], reps: int) -> dict:
    load_before = os.getloadavg()[0]
    paths = {}
    for n in ns:
        for label, prepare, _ in CHECK_TOOLS:
            path = fresh(SCRATCH / "check" / f"{slug(label)}-{n}.db")
            spawn(prepare(path, n))
            paths[(n, label)] = path
    results = {}
    for n in ns:
        for label, _, check in CHECK_TOOLS:
            spawn(check(paths[(n, label)], n))  # warm the page cache; not counted
    for rep in range(reps):
        for n in ns:
            cases = [(label, check) for label, _, check in CHECK_TOOLS] + [
                (PROCESS_FLOOR, None)
            ]
            shift = rep % len(cases)
            for label, check in cases[shift:] + cases[:shift]:
                if check is None:
                    run = spawn([RAW, "noop"])
                else:
                    run = spawn(check(paths[(n, label)], n))
                results.setdefault((n, label), []).append(run)
    log("start-up checks done")
    results["load"] = (load_before, os.getloadavg()[0])
    return results, paths


def bench_discovery(reps: int) -> dict:
    results = {}
    cases = [
        ("10000", lambda: [migrate_bin(10000), "discover", 10000]),
        ("10000-proto", lambda: [migrate_bin(10000), "proto-discover", 10000]),
        ("1000", lambda: [migrate_bin(1000), "discover", 1000]),
        ("1000-proto", lambda: [migrate_bin(1000), "proto-discover", 1000]),
    ]
    for rep in range(reps):
        for key, make in cases:
            results.setdefault(key, []).append(spawn(make()))
    log("discovery done")
    return results


def fsync_counts(n: int) -> dict:
    """fsync/fdatasync calls of one apply of `n`, per migration, through strace -c."""
    if shutil.which("strace") is None:
        return {}
    counts = {}
    for group, label, make in apply_cases(n, "delete") + [
        (g, l + " [WAL]", m) for g, l, m in apply_cases(n, "wal")
    ]:
        path = fresh(SCRATCH / "strace" / "db.db")
        out = SCRATCH / "strace" / "counts.txt"
        journal = "wal" if label.endswith("[WAL]") else "delete"
        cmd = [str(c) for c in make(path)]
        subprocess.run(
            ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(out), *cmd],
            env=ENV, capture_output=True, check=True,
        )
        calls = 0
        for line in out.read_text().splitlines():
            fields = line.split()
            if fields and fields[-1] in ("fsync", "fdatasync"):
                calls += int(fields[3])
        counts[(journal, label.replace(" [WAL]", ""))] = calls / n
    log("fsync counts done")
    return counts


def bench_fk(reps: int, binary_path: Path | None = None) -> dict:
    """Workload 6: one migration (CREATE TABLE) with foreign keys enforced, on a database
    whose `children` table (a child of `parents`, which the migration does not touch) has
    1,000,000 rows, against the same with no rows. Each run works on a fresh copy of a
    database made once, so every run applies the migration."""
    binary_path = binary_path or migrate_bin(10)
    results = {}
    sources = {}
    for rows in (0, 1_000_000):
        source = fresh(SCRATCH / "fk" / f"source-{rows}.db")
        spawn([binary_path, "fk-setup", source, rows])
        sources[rows] = source
    for rep in range(reps):
        for rows in ((0, 1_000_000) if rep % 2 == 0 else (1_000_000, 0)):
            path = copy_to(sources[rows], SCRATCH / "fk" / f"run-{rows}.db")
            run = spawn([binary_path, "fk-one", path])
            results.setdefault(rows, []).append(run)
    # Instructions of one run of each (valgrind), when present: repeatable where time is not.
    cg = callgrind([
        (f"fk-one {rows}", [binary_path, "fk-one", copy_to(sources[rows], SCRATCH / "fk" / f"cg-{rows}.db")])
        for rows in (0, 1_000_000)
    ], {"fk_check": r"Backend>::check \["})
    log("foreign-key check workload done")
    return {"runs": results, "callgrind": cg}


def copy_to(source: Path, path: Path) -> Path:
    """A copy of `source` at `path`, on disk before it is used: otherwise the migration's
    commit would pay for flushing the copy (its fsync writes every dirty page of the file)."""
    shutil.copyfile(source, fresh(path))
    with path.open("rb+") as f:
        os.fsync(f.fileno())
    return path


def fk_table(data: dict) -> str:
    """The figures of workload 6 as a markdown table."""
    lines = [
        "| `children` rows (untouched) | median wall time | instructions, whole process | of which `Backend::check` |",
        "|---|---|---|---|",
    ]
    for rows in (0, 1_000_000):
        runs = data["runs"][rows]
        cg = data["callgrind"].get(f"fk-one {rows}", {})
        total = cg.get("total")
        check = cg.get("fk_check")
        lines.append(
            f"| {rows:,} | {ms(med([r.ns / 1e9 for r in runs]))} | "
            f"{f'{total:,}' if total is not None else 'n/a'} | {f'{check:,}' if check is not None else 'n/a'} |"
        )
    return "\n".join(lines)


APPLY_PER_PATTERNS = {
    # Each migration's transaction: migrate's `Backend::begin` and `Backend::check` (the
    # foreign-key check: a snapshot of the schema at begin, compared after the migration).
    "begin": r"Backend>::begin \[",
    "schema_read": r"foreign_keys::Schema::read \[",
}


def callgrind_apply_per(n: int) -> dict:
    """Instructions of one apply of `n` with one transaction per migration (WAL, so the
    commits cost little time under valgrind), the floor's and migrate's."""
    return callgrind([
        ("raw floor, one transaction per migration",
         [RAW, "apply", fresh(SCRATCH / "cg" / "per-a.db"), n, "wal", "per"]),
        ("migrate, one transaction per migration",
         [migrate_bin(n), "apply", fresh(SCRATCH / "cg" / "per-b.db"), n, "wal", "per"]),
    ], {**APPLY_PATTERNS, **APPLY_PER_PATTERNS})


APPLY_PATTERNS = {
    "history_row": r"(Backend>::record_applied|bench_raw::record) \[",
    "fk_check": r"Backend>::check \[",
    "fingerprint": r"Backend>::store_fingerprint \[",
}


def callgrind(cases: list[tuple[str, list]], patterns: dict[str, str] | None = None) -> dict:
    """Instructions of each command (valgrind --tool=callgrind), split into the schema load
    (sqlite3InitOne, inclusive) and the rest."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        return {}
    out_dir = TARGET / "callgrind"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for i, (label, cmd) in enumerate(cases):
        out = out_dir / f"{slug(label)}.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *map(str, cmd)],
            env=ENV, capture_output=True, check=True,
        )
        annotated = subprocess.run(
            # --threshold=100: every function; the default (99) leaves out the smallest
            # ones, which then read as 0 here.
            ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
            capture_output=True, text=True, check=True,
            # Elsewhere it resolves relative source paths and splits functions in two.
            cwd=out_dir,
        ).stdout

        def inclusive(pattern: str) -> int:
            """Inclusive instructions of the function matching `pattern`; 0 when it was
            never called (every called function is listed)."""
            best = 0
            for line in annotated.splitlines():
                if re.search(pattern, line):
                    match = re.match(r"\s*([\d,]+)", line)
                    if match:
                        best = max(best, int(match.group(1).replace(",", "")))
            return best

        results[label] = {
            "total": inclusive(r"PROGRAM TOTALS"),
            "schema": inclusive(r"sqlite3\.c:sqlite3InitOne \["),
            "discovery": inclusive(r"discover\.rs:migrate_core::discover::discovered_migrations \["),
        }
        for key, pattern in (patterns or {}).items():
            results[label][key] = inclusive(pattern)
            if os.environ.get("BENCH_DEBUG"):
                log(f"{label} {key} {pattern!r} -> {results[label][key]}")
    log("instruction counts done")
    return results


# ---------------------------------------------------------------------------------------
# Build cost: a minimal binary with 3 migrations per tool


MIGRATE_FILE = """use migrate_sqlite::{{migration, BoxError, Db, Migration}};

#[migration(version = {i}, description = "Create t_{i}", irreversible)]
pub struct CreateT{i};

impl Migration for CreateT{i} {{
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {{
        db.execute("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT)")
    }}
}}
"""


def sql(i: int) -> str:
    return f"CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\n"


def rust_list(i_max: int, template: str) -> str:
    return "".join(template.format(i=i) for i in range(1, i_max + 1))


def minimal_project(tool: str, root: Path, migrations: int) -> None:
    """Writes (or updates, for `migrations` = 4) the minimal project of `tool`."""
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    name = f"minimal-{tool.replace('_', '-')}"
    deps = {
        "raw": 'rusqlite = { version = "0.43", features = ["bundled"] }',
        "migrate": f'migrate-sqlite = {{ path = "{ROOT / "migrate-sqlite"}" }}',
        "rusqlite_migration": 'rusqlite_migration = "2.6"\nrusqlite = { version = "0.40", features = ["bundled"] }',
        "refinery": 'refinery = { version = "0.10", features = ["rusqlite-bundled"] }\n'
        'rusqlite = { version = "0.41", features = ["bundled"] }',
        "sqlx": 'sqlx = { version = "0.9", default-features = false, features = '
        '["runtime-tokio", "sqlite", "migrate", "macros"] }\ntokio = { version = "1", features = ["rt"] }',
        "diesel": 'diesel = { version = "2.3", features = ["sqlite"] }\n'
        'diesel_migrations = { version = "2.3", features = ["sqlite"] }\n'
        'libsqlite3-sys = { version = "0.38", features = ["bundled"] }',
    }[tool]
    build_deps = {
        "migrate": f'[build-dependencies]\nmigrate-build = {{ path = "{ROOT / "migrate-build"}" }}\n',
    }.get(tool, "")
    (root / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n'
        f"[workspace]\n\n[dependencies]\n{deps}\n\n{build_deps}"
    )
    if tool == "migrate":
        (root / "build.rs").write_text(
            'fn main() {\n    migrate_build::migrations("src/migrations").generate_or_report();\n}\n'
        )
        (src / "migrations").mkdir(exist_ok=True)
        (src / "migrations.rs").write_text("migrate_sqlite::include_migrations!();\n")
        for i in range(1, migrations + 1):
            (src / "migrations" / f"m{i:04}_create_t_{i}.rs").write_text(MIGRATE_FILE.format(i=i))
        (src / "main.rs").write_text(
            "mod migrations;\n\nfn main() -> Result<(), migrate_sqlite::Error> {\n"
            "    let path = std::env::args().nth(1).unwrap();\n"
            "    let mut db = migrate_sqlite::Sqlite::open(path)?;\n"
            "    migrate_sqlite::Migrator::discovered()?.to_latest(&mut db)?;\n    Ok(())\n}\n"
        )
        return
    if tool in ("refinery", "sqlx", "diesel"):
        # All three document a build script so that a new file in the folder rebuilds.
        (root / "build.rs").write_text('fn main() {\n    println!("cargo:rerun-if-changed=migrations");\n}\n')
    folder = root / "migrations"
    folder.mkdir(exist_ok=True)
    for i in range(1, migrations + 1):
        if tool == "diesel":
            (folder / f"{i:05}_create_t_{i}").mkdir(exist_ok=True)
            (folder / f"{i:05}_create_t_{i}" / "up.sql").write_text(sql(i))
            (folder / f"{i:05}_create_t_{i}" / "down.sql").write_text(f"DROP TABLE t_{i};\n")
            continue
        file = {
            "raw": f"{i:04}.sql",
            "rusqlite_migration": f"{i:04}.sql",
            "refinery": f"V{i}__create_t_{i}.sql",
            "sqlx": f"{i}_create_t_{i}.sql",
        }[tool]
        (folder / file).write_text(sql(i))
    if tool == "raw":
        statements = rust_list(migrations, '    include_str!("../migrations/{i:04}.sql"),\n')
        (src / "main.rs").write_text(
            f"const MIGRATIONS: &[&str] = &[\n{statements}];\n\n"
            "fn main() -> rusqlite::Result<()> {\n"
            "    let path = std::env::args().nth(1).unwrap();\n"
            "    let conn = rusqlite::Connection::open(path)?;\n"
            "    conn.execute_batch(\"CREATE TABLE IF NOT EXISTS history (version INTEGER PRIMARY KEY)\")?;\n"
            "    let done: i64 = conn.query_row(\"SELECT count(*) FROM history\", [], |r| r.get(0))?;\n"
            "    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {\n"
            "        conn.execute_batch(\"BEGIN IMMEDIATE\")?;\n"
            "        conn.execute_batch(sql)?;\n"
            "        conn.execute(\"INSERT INTO history (version) VALUES (?1)\", [i as i64 + 1])?;\n"
            "        conn.execute_batch(\"COMMIT\")?;\n    }\n    Ok(())\n}\n"
        )
    elif tool == "rusqlite_migration":
        statements = rust_list(migrations, '    M::up(include_str!("../migrations/{i:04}.sql")),\n')
        (src / "main.rs").write_text(
            "use rusqlite_migration::{M, Migrations};\n\n"
            f"const MIGRATIONS_SLICE: &[M<'_>] = &[\n{statements}];\n"
            "const MIGRATIONS: Migrations<'_> = Migrations::from_slice(MIGRATIONS_SLICE);\n\n"
            "fn main() {\n    let path = std::env::args().nth(1).unwrap();\n"
            "    let mut conn = rusqlite::Connection::open(path).unwrap();\n"
            "    MIGRATIONS.to_latest(&mut conn).unwrap();\n}\n"
        )
    elif tool == "refinery":
        (src / "main.rs").write_text(
            'mod embedded {\n    refinery::embed_migrations!("migrations");\n}\n\n'
            "fn main() {\n    let path = std::env::args().nth(1).unwrap();\n"
            "    let mut conn = rusqlite::Connection::open(path).unwrap();\n"
            "    embedded::migrations::runner().run(&mut conn).unwrap();\n}\n"
        )
    elif tool == "sqlx":
        (src / "main.rs").write_text(
            "use std::str::FromStr;\n\n"
            "static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!(\"./migrations\");\n\n"
            "fn main() {\n    let path = std::env::args().nth(1).unwrap();\n"
            "    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();\n"
            "    runtime.block_on(async {\n"
            "        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&format!(\"sqlite://{path}\"))\n"
            "            .unwrap()\n            .create_if_missing(true);\n"
            "        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1)\n"
            "            .connect_with(options).await.unwrap();\n"
            "        MIGRATOR.run(&pool).await.unwrap();\n    });\n}\n"
        )
    elif tool == "diesel":
        (src / "main.rs").write_text(
            "use diesel::prelude::*;\n"
            "use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};\n\n"
            "const MIGRATIONS: EmbeddedMigrations = embed_migrations!();\n\n"
            "fn main() {\n    let path = std::env::args().nth(1).unwrap();\n"
            "    let mut conn = SqliteConnection::establish(&path).unwrap();\n"
            "    conn.run_pending_migrations(MIGRATIONS).unwrap();\n}\n"
        )


def bench_build() -> dict:
    results = {}
    for tool in TOOLS:
        root = TARGET / "buildcost" / tool
        if root.exists():
            shutil.rmtree(root)
        minimal_project(tool, root, 3)
        lock = BENCH / "tools" / tool / "Cargo.lock"
        if lock.exists():
            # The versions the rest of the benchmark measures.
            shutil.copy(lock, root / "Cargo.lock")
        target = root / "target"
        cargo(["fetch"], cwd=root, target_dir=target)
        clean_wall, clean_log = cargo(["build", "--release"], cwd=root, target_dir=target)
        exe = target / "release" / f"minimal-{tool.replace('_', '-')}"
        db = fresh(root / "app.db")
        subprocess.run([exe, db], check=True)
        minimal_project(tool, root, 4)
        time.sleep(1.1)  # distinct modification times for Cargo's fingerprints
        re_wall, re_log = cargo(["build", "--release"], cwd=root, target_dir=target)
        subprocess.run([exe, db], check=True)
        results[tool] = {
            "clean": clean_wall,
            "clean_crates": clean_log.count("Compiling "),
            "rebuild": re_wall,
            "rebuild_crates": re_log.count("Compiling "),
            "size": exe.stat().st_size,
        }
        log(f"build cost of {tool}: {clean_wall:.0f} s clean, {re_wall:.1f} s after adding a migration")
    return results


# ---------------------------------------------------------------------------------------
# PostgreSQL (section 6): apply N and the start-up check against a server, each sample in
# a database of its own


PG_URL = os.environ.get("MIGRATE_BENCH_POSTGRES", "postgres://postgres@127.0.0.1/")
PG_NS = [10, 100, 1000]
PG_CHECK_N = 1000
PG_RAW = "raw floor (BEGIN; statement; history row, prepared once; COMMIT)"
PG_RAW_ONE_TRIP = "raw, one round trip per migration (the same transaction as one simple query)"


def migrate_pg_bin(n: int) -> Path:
    return binary(f"migrate-pg-n{n}")


def pg_url(database: str) -> str:
    """`MIGRATE_BENCH_POSTGRES` with its database replaced by `database`, and `sslmode=disable`
    unless it names a mode: libpq (diesel) would otherwise negotiate TLS where the server
    offers it, and the other clients here are built without TLS."""
    parts = urllib.parse.urlsplit(PG_URL)
    query = parts.query if "sslmode=" in parts.query else "&".join(filter(None, [parts.query, "sslmode=disable"]))
    return urllib.parse.urlunsplit(parts._replace(path="/" + database, query=query))


def pg_apply_cases(n: int) -> list[tuple[str, str, callable]]:
    """(key, label, command for a connection string): each migration in a transaction of
    its own, with its history row."""
    return [
        ("raw", PG_RAW, lambda u: [RAW, "pg-apply", u, n, "per"]),
        ("raw_one_trip", PG_RAW_ONE_TRIP, lambda u: [RAW, "pg-apply", u, n, "one-trip"]),
        ("migrate", "migrate (migrate-postgres)", lambda u: [migrate_pg_bin(n), "pg-apply", u, n]),
        ("refinery", "refinery", lambda u: [REFINERY, "pg-apply", u, n]),
        ("sqlx", "sqlx", lambda u: [SQLX, "pg-apply", u, n]),
        ("diesel", "diesel", lambda u: [DIESEL, "pg-apply", u, n]),
    ]


PG_RAW_CHECK = "raw floor (one history read, a simple query)"


def pg_check_cases(n: int) -> list[tuple[str, str, callable, callable]]:
    """(key, label, prepare, check): the prepare applies `n` with the tool itself."""
    return [
        ("raw", PG_RAW_CHECK, lambda u: [RAW, "pg-apply", u, n, "per"], lambda u: [RAW, "pg-check", u, n]),
        *[(key, label, make, lambda u, key=key: [*pg_check_command(key, n), u, n])
          for key, label, make in pg_apply_cases(n) if key not in ("raw", "raw_one_trip")],
    ]


def pg_check_command(key: str, n: int) -> list:
    return {
        "migrate": [migrate_pg_bin(n), "pg-check"],
        "refinery": [REFINERY, "pg-check"],
        "sqlx": [SQLX, "pg-check"],
        "diesel": [DIESEL, "pg-check"],
    }[key]


def pg_admin(action: str, database: str) -> None:
    spawn([RAW, "pg-admin", PG_URL, action, database])


def pg_server() -> dict | None:
    """The server's version and commit settings, or None when there is no server."""
    try:
        return spawn([RAW, "pg-version", PG_URL]).values
    except SystemExit as error:
        log(f"no PostgreSQL server at MIGRATE_BENCH_POSTGRES ({PG_URL}): {str(error).splitlines()[-1]}")
        return None


def in_database(database: str, commands: list[list]) -> list[Run]:
    """Runs `commands` in a new database `database`, dropped afterwards."""
    pg_admin("drop", database)  # left over from a run that was stopped
    pg_admin("create", database)
    try:
        return [spawn(command) for command in commands]
    finally:
        pg_admin("drop", database)


def bench_postgres(reps: int, ns: list[int] | None = None) -> dict:
    """Applying N (each sample in a new database) and the start-up check with
    `PG_CHECK_N` applied (a new database per sample, applied by the tool itself, one check
    not counted to warm the server's caches, then the measured one); the tools
    interleaved, the order rotating each round. Then the client's socket writes of one
    run of each (strace)."""
    ns = ns or PG_NS
    server = pg_server()
    if server is None:
        return {}
    apply: dict = {}
    check: dict = {}
    for rep in range(reps):
        for n in ns:
            cases = pg_apply_cases(n)
            shift = rep % len(cases)
            for key, label, make in cases[shift:] + cases[:shift]:
                database = f"bench_{key}_{n}_{rep}"
                [run] = in_database(database, [make(pg_url(database))])
                apply.setdefault((n, label), []).append(run)
        cases = pg_check_cases(PG_CHECK_N)
        shift = rep % len(cases)
        for key, label, prepare, check_cmd in cases[shift:] + cases[:shift]:
            database = f"bench_{key}_check_{rep}"
            url = pg_url(database)
            _, _, run = in_database(database, [prepare(url), check_cmd(url), check_cmd(url)])
            check.setdefault(label, []).append(run)
        log(f"postgres: round {rep + 1}/{reps} done")
    return {
        "server": server,
        "url": re.sub(r"//[^@/]*@", "//", PG_URL),
        "reps": reps,
        "ns": ns,
        "date": datetime.date.today().isoformat(),
        "load": os.getloadavg()[0],
        "apply": apply,
        "check": check,
        "writes": pg_socket_writes(ns),
    }


def socket_writes(command: list) -> int | None:
    """The writes the command's process makes to TCP sockets (here: the one to the server),
    counted with strace (`-yy` names each descriptor's kind). A client that waits for the
    answer after each write makes one round trip per write, plus the last write, the
    Terminate message, which has no answer."""
    if shutil.which("strace") is None:
        return None
    out = SCRATCH / "strace" / "pg-writes.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["strace", "-f", "-qq", "-yy", "-e", "trace=write,writev,sendto,sendmsg", "-o", str(out),
         *map(str, command)],
        env=ENV, capture_output=True, check=True,
    )
    return sum(
        1 for line in out.read_text().splitlines()
        if re.search(r"\b(write|writev|sendto|sendmsg)\(\d+<TCPv?6?:", line)
    )


def pg_socket_writes(ns: list[int]) -> dict:
    """Socket writes of one apply at the two smallest N (their difference per migration
    is the per-migration cost, without connecting and setting up) and of one start-up
    check at `PG_CHECK_N`."""
    counts: dict = {}
    small, large = ns[0], ns[1] if len(ns) > 1 else ns[0]
    for key, label, _ in pg_apply_cases(small):
        for n in (small, large):
            make = next(m for k, _, m in pg_apply_cases(n) if k == key)
            database = f"bench_{key}_strace_{n}"
            pg_admin("drop", database)
            pg_admin("create", database)
            try:
                counts[("apply", label, n)] = socket_writes(make(pg_url(database)))
            finally:
                pg_admin("drop", database)
    for key, label, prepare, check_cmd in pg_check_cases(PG_CHECK_N):
        database = f"bench_{key}_strace_check"
        url = pg_url(database)
        pg_admin("drop", database)
        pg_admin("create", database)
        try:
            spawn(prepare(url))
            counts[("check", label)] = socket_writes(check_cmd(url))
            if key in ("raw", "migrate"):
                counts[("callgrind", label)] = callgrind([(f"pg {label}", check_cmd(url))],
                                                         PG_CHECK_PATTERNS).get(f"pg {label}")
        finally:
            pg_admin("drop", database)
    log("postgres: socket writes counted")
    return counts


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


PG_HEADING = "## 6. PostgreSQL"


def pg_medians(pg: dict) -> tuple[dict, dict]:
    apply = {key: med([r.ns for r in runs]) / 1e9 for key, runs in pg["apply"].items()}
    check = {label: med([r.ns for r in runs]) / 1e9 for label, runs in pg["check"].items()}
    return apply, check


def pg_fastest(pg: dict) -> dict:
    """migrate's fastest run against the floor's, apply at the largest N and check: the
    commits' waits on a shared disk move the medians more than the minimums."""
    n_max = max(pg["ns"])
    m = "migrate (migrate-postgres)"
    fastest = lambda runs: min(r.ns for r in runs) / 1e9
    pairs = {
        "apply": (fastest(pg["apply"][(n_max, m)]), fastest(pg["apply"][(n_max, PG_RAW)])),
        "check": (fastest(pg["check"][m]), fastest(pg["check"][PG_RAW_CHECK])),
    }
    return {key: f"{ms(a)} vs {ms(b)} = {ratio(a, b)}" for key, (a, b) in pairs.items()}


def pg_connect_split(runs: list[Run]) -> tuple[str, str]:
    """Median (min) of the time to connect and of the rest, where the tool printed it."""
    connect = [float(r.values["connect_ns"]) / 1e9 for r in runs if "connect_ns" in r.values]
    if len(connect) != len(runs):
        return "", ""
    rest = [r.ns / 1e9 - c for r, c in zip(runs, connect)]
    return tuple(f"{ms(med(v))} ({ms(min(v))})" for v in (connect, rest))


def pg_section(data: dict) -> list[str]:
    """Section 6 of the page: the PostgreSQL tables, or a note that they were skipped."""
    pg = data.get("postgres")
    lines: list[str] = []
    w = lines.append
    w(f"{PG_HEADING}: applying N and the start-up check")
    w("")
    if "postgres" not in data:
        w("Not measured in this run (`--quick`); `python3 bench/run.py --only postgres` "
          "measures it.")
        w("")
        return lines
    if not pg:
        w("Not measured in this run: no PostgreSQL server answered at `MIGRATE_BENCH_POSTGRES` "
          "(default `postgres://postgres@127.0.0.1/`). Start one and run `python3 bench/run.py "
          "--only postgres`.")
        w("")
        return lines
    s = pg["server"]
    apply, check = pg_medians(pg)
    ns = pg["ns"]
    n_max = max(ns)
    floor = apply[(n_max, PG_RAW)]
    migrate_apply = apply[(n_max, "migrate (migrate-postgres)")]
    floor_check = check[PG_RAW_CHECK]
    migrate_check = check["migrate (migrate-postgres)"]
    verdict = lambda ok: "**met**" if ok else "**missed**"
    w(f"Written by `python3 bench/run.py --only postgres` (or the full run) on {pg['date']}: "
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
    fastest = pg_fastest(pg)
    w("| target | measured: medians; the fastest runs | |")
    w("|---|---|---|")
    w(f"| apply {n_max}, one transaction each: within 1.10x of the raw floor | "
      f"{ms(migrate_apply)} vs {ms(floor)} = {ratio(migrate_apply, floor)}; "
      f"{fastest['apply']} | {verdict(migrate_apply <= 1.10 * floor)} (medians) |")
    w(f"| start-up check, {PG_CHECK_N} applied: within 1.10x of the floor's history read | "
      f"{ms(migrate_check)} vs {ms(floor_check)} = {ratio(migrate_check, floor_check)}; "
      f"{fastest['check']} | {verdict(migrate_check <= 1.10 * floor_check)} (medians) |")
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
    for _, label, _ in pg_apply_cases(ns[0]):
        cells = []
        for n in ns:
            runs = pg["apply"][(n, label)]
            m = apply[(n, label)]
            cells.append(f"{ms(m)} ({ms(min(r.ns for r in runs) / 1e9)}) {m / apply[(n, PG_RAW)]:.2f}x")
        w(f"| {label} | " + " | ".join(cells) + " |")
    w("")
    w(f"### Start-up check with {PG_CHECK_N} applied")
    w("")
    w("Connect, read the history, find nothing to do. One check is run first and not "
      "counted, so each tool meets a server that has its tables in cache.")
    w("")
    w("| tool | in-process | over the floor | of which connecting | after connecting | process (spawn to exit) |")
    w("|---|---|---|---|---|---|")
    for _, label, _, _ in pg_check_cases(PG_CHECK_N):
        runs = pg["check"][label]
        split = pg_connect_split(runs)
        w(f"| {label} | {ms(check[label])} ({ms(min(r.ns for r in runs) / 1e9)}) | "
          f"{ratio(check[label], floor_check)} | {split[0]} | {split[1]} | "
          f"{ms(med([r.wall for r in runs]))} |")
    w("")
    w("Connecting and after: the floor and migrate print the time their connect call took "
      "(`connect_ns`: for migrate `Postgres::connect`, which asks the server for "
      "`current_schema()` too); median (min) of each part over the same runs.")
    w("")
    writes = pg.get("writes") or {}
    cg_raw, cg_migrate = (writes.get(("callgrind", label)) for label in (PG_RAW_CHECK, "migrate (migrate-postgres)"))
    if cg_raw and cg_migrate:
        w(f"Instructions of one start-up check with {PG_CHECK_N} applied, the client's side "
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
        w(f"### Round trips (client writes to the socket, strace)")
        w("")
        w("Each tool's writes to the server's TCP socket in one run (`strace -f -yy -e "
          "trace=write,writev,sendto,sendmsg`, the writes to other descriptors left out). "
          "Every client here waits for the server's answer after each write, so each write "
          "is a round trip, except the last, the Terminate message that closes the "
          "connection: a start-up check of W writes made W - 1 round trips, the start-up "
          f"message among them. Per migration: (writes applying {large} - writes applying "
          f"{small}) / {large - small}, which leaves out connecting and the one-time setup.")
        w("")
        w(f"| tool | applying {small} | applying {large} | per migration | start-up check, {PG_CHECK_N} applied |")
        w("|---|---|---|---|---|")
        check_labels = {label: c for _, label, _, c in pg_check_cases(PG_CHECK_N)}
        for key, label, _ in pg_apply_cases(small):
            a, b = writes.get(("apply", label, small)), writes.get(("apply", label, large))
            per = f"{(b - a) / (large - small):.2f}" if a is not None and b is not None else "n/a"
            check_label = PG_RAW_CHECK if key == "raw" else label
            c = writes.get(("check", check_label)) if check_label in check_labels else None
            w(f"| {label} | {a} | {b} | {per} | {c if c is not None else ''} |")
        w("")
    return lines


def pg_fields(data: dict) -> dict:
    """The PostgreSQL figures the analysis quotes; `n/a` when they were not measured."""
    pg = data.get("postgres")
    keys = (*(f"pg_cg_{side}_{key}" for side in ("raw", "migrate") for key in ("total", *PG_CHECK_PATTERNS)),
            "pg_raw_connect", "pg_raw_after", "pg_migrate_connect", "pg_migrate_after", "pg_small_n", "pg_migrate_writes_small", "pg_raw_writes_small", "pg_n", "pg_check_n", "pg_apply_fastest", "pg_check_fastest", "pg_migrate_apply", "pg_raw_apply", "pg_apply_ratio", "pg_one_trip_ratio",
            "pg_migrate_check", "pg_raw_check", "pg_check_ratio", "pg_sync_commit",
            "pg_migrate_writes_per", "pg_raw_writes_per", "pg_migrate_check_writes",
            "pg_raw_check_writes", "pg_refinery_ratio", "pg_sqlx_ratio", "pg_diesel_ratio",
            "pg_refinery_check_ratio", "pg_sqlx_check_ratio", "pg_diesel_check_ratio")
    if not pg:
        return {key: "n/a" for key in keys}
    apply, check = pg_medians(pg)
    n_max = max(pg["ns"])
    small, large = pg["ns"][0], pg["ns"][1] if len(pg["ns"]) > 1 else pg["ns"][0]
    writes = pg.get("writes") or {}

    def per(label):
        a, b = writes.get(("apply", label, small)), writes.get(("apply", label, large))
        return f"{(b - a) / (large - small):.2f}" if a is not None and b is not None else "n/a"

    m = "migrate (migrate-postgres)"
    fields = {
        "pg_migrate_apply": ms(apply[(n_max, m)]),
        "pg_raw_apply": ms(apply[(n_max, PG_RAW)]),
        "pg_apply_ratio": ratio(apply[(n_max, m)], apply[(n_max, PG_RAW)]),
        "pg_one_trip_ratio": ratio(apply[(n_max, PG_RAW_ONE_TRIP)], apply[(n_max, PG_RAW)]),
        "pg_migrate_check": ms(check[m]),
        "pg_raw_check": ms(check[PG_RAW_CHECK]),
        "pg_check_ratio": ratio(check[m], check[PG_RAW_CHECK]),
        "pg_sync_commit": pg["server"].get("synchronous_commit", "?"),
        "pg_n": str(n_max),
        "pg_apply_fastest": pg_fastest(pg)["apply"],
        **{f"pg_cg_{side}_{key}": f"{(writes.get(('callgrind', label)) or {}).get(key, 0):,}"
           for side, label in (("raw", PG_RAW_CHECK), ("migrate", m))
           for key in ("total", *PG_CHECK_PATTERNS)},
        **{f"pg_{side}_{part}": pg_connect_split(pg["check"][label])[i] or "n/a"
           for side, label in (("raw", PG_RAW_CHECK), ("migrate", m))
           for i, part in enumerate(("connect", "after"))},
        "pg_check_fastest": pg_fastest(pg)["check"],
        "pg_check_n": str(PG_CHECK_N),
        "pg_migrate_writes_per": per(m),
        "pg_raw_writes_per": per(PG_RAW),
        "pg_migrate_check_writes": str(writes.get(("check", m), "n/a")),
        "pg_small_n": str(small),
        "pg_migrate_writes_small": str(writes.get(("apply", m, small), "n/a")),
        "pg_raw_writes_small": str(writes.get(("apply", PG_RAW, small), "n/a")),
        "pg_raw_check_writes": str(writes.get(("check", PG_RAW_CHECK), "n/a")),
    }
    for peer in ("refinery", "sqlx", "diesel"):
        fields[f"pg_{peer}_ratio"] = ratio(apply[(n_max, peer)], apply[(n_max, PG_RAW)])
        fields[f"pg_{peer}_check_ratio"] = ratio(check[peer], check[PG_RAW_CHECK])
    return fields


def only_postgres(args) -> None:
    """`--only postgres`: section 6 alone, merged into the last full run's results when
    they are saved here, else written into the existing page (section 6 and the analysis's
    PostgreSQL subsection replaced or added; every other row stays as it was)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log("building the tools (release)")
    for tool in ("raw", "migrate", "refinery", "sqlx", "diesel"):
        manifest = BENCH / "tools" / tool / "Cargo.toml"
        wall, _ = cargo(["build", "--release", "--manifest-path", str(manifest)], target_dir=TARGET)
        log(f"  {tool}: {wall:.0f} s")
    log("workload 7: PostgreSQL")
    pg = bench_postgres(args.reps)
    with (TARGET / "last-postgres-run.pickle").open("wb") as f:
        pickle.dump(pg, f)
    write_postgres(args, pg)


def write_postgres(args, pg: dict) -> None:
    """Section 6 from `pg` into the last full run's page, or into the existing page."""

    def update(merged: dict, _full_args) -> bool:
        merged["postgres"] = pg
        return True

    if not merge_into_full_run(args, update):
        splice_postgres({"postgres": pg}, existing_page(args))


def merge_into_full_run(args, update) -> bool:
    """`update(results, args)` applied to the last full run's saved results, saved again,
    and the whole page written from them; False (nothing done) when no full run is saved,
    with `--quick`, or when `update` returns False (results that do not fit)."""
    full = TARGET / "last-run.pickle"
    if not full.exists() or args.quick:
        return False
    with full.open("rb") as f:
        merged, full_args = pickle.load(f)
    if not update(merged, full_args):
        return False
    with full.open("wb") as f:
        pickle.dump((merged, full_args), f)
    report(full_args, merged, args.out or ROOT / "docs" / "performance.md")
    return True


def existing_page(args) -> Path:
    """The page a partial run writes into: `--out`, or the report of the last run."""
    out = args.out or (TARGET / "performance-quick.md" if args.quick else ROOT / "docs" / "performance.md")
    if not out.exists():
        raise SystemExit(f"{out} does not exist: run the full benchmark first, or give --out a copy of a report")
    return out


def splice_section(page: Path, heading: str, section: list[str], analysis_heading: str,
                   part: str, what: str) -> None:
    """Replaces (or adds, before the analysis) the numbered section that starts with
    `heading`, and (or adds, at the analysis's end) the analysis subsection that starts
    with `analysis_heading`; what follows each (other subsections, the sections other
    commands write between their markers, such as bench/indexes.py's) stays."""
    text = page.read_text()
    section_text = "\n".join(section) + "\n"
    if heading in text:
        a = text.index(heading)
        text = text[:a] + section_text + text[text.index("\n## ", a) + 1:]
    else:
        a = text.index("## Where the time goes")
        text = text[:a] + section_text + text[a:]
    part = part.strip("\n") + "\n\n"
    if analysis_heading in text:
        start = text.index(analysis_heading)
        ends = [i for i in (text.find("\n### ", start), text.find("\n<!-- ", start),
                            text.find("\n## ", start)) if i != -1]
        end = min(ends) if ends else len(text)
        text = text[:start] + part + text[end:].lstrip("\n")
    else:
        end = text.find("\n<!-- ", text.index("## Where the time goes"))
        end = len(text) if end == -1 else end
        text = text[:end].rstrip("\n") + "\n\n" + part + text[end:].lstrip("\n")
    page.write_text(text.rstrip("\n") + "\n")
    log(f"wrote the {what} rows into {page}")


def splice_postgres(data: dict, page: Path) -> None:
    """Replaces (or adds) section 6 and the analysis's PostgreSQL subsection of `page`."""
    analysis = (BENCH / "analysis.md").read_text()
    a = analysis.index(PG_ANALYSIS)
    part = analysis[a:analysis.index(FANOUT_ANALYSIS, a)].format(**pg_fields(data))
    splice_section(page, PG_HEADING, pg_section(data), PG_ANALYSIS, part, "PostgreSQL")


# The analysis's PostgreSQL subsection: the last of bench/analysis.md.
PG_ANALYSIS = "### PostgreSQL"


# ---------------------------------------------------------------------------------------
# The fan-out (section 7, `--only fanout`): many databases, one migrator

FANOUT_HEADING = "## 7. Fan-out"
# The analysis's fan-out subsection: after the PostgreSQL one, the last of bench/analysis.md.
FANOUT_ANALYSIS = "### Fan-out"
FANOUT_JOBS = [1, 2, 4, 8]
FANOUT_MIGRATIONS = 5
FANOUT = binary("migrate-fanout")
FANOUT_LOOP = "migrate, a loop (open, `to_latest`)"
FANOUT_SQLX = "sqlx, a loop (one pool of one connection each, `Migrator::run`)"


def fanout_label(jobs: int) -> str:
    return f"migrate, `fan_out().jobs({jobs})`"


def fanout_cases(backend: str) -> list[tuple[str, str, int | None, callable]]:
    """(key, label, workers, command): `backend` "sqlite" takes (dir, count), "pg"
    (url, prefix, count)."""
    if backend == "sqlite":
        return [
            ("loop", FANOUT_LOOP, None, lambda d, c: [FANOUT, "sqlite-loop", d, c]),
            *[(f"jobs{j}", fanout_label(j), j, lambda d, c, j=j: [FANOUT, "sqlite-fanout", d, c, j])
              for j in FANOUT_JOBS],
            ("sqlx", FANOUT_SQLX, None, lambda d, c: [SQLX, "sqlite-loop", d, c]),
        ]
    return [
        ("loop", FANOUT_LOOP, None, lambda u, p, c: [FANOUT, "pg-loop", u, p, c]),
        *[(f"jobs{j}", fanout_label(j), j, lambda u, p, c, j=j: [FANOUT, "pg-fanout", u, p, c, j])
          for j in FANOUT_JOBS],
        ("sqlx", FANOUT_SQLX, None, lambda u, p, c: [SQLX, "pg-loop", u, p, c]),
    ]


def cpu_ticks() -> tuple[int, int, int]:
    """The whole machine's CPU time so far, in ticks: (all, busy, waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    idle, iowait = fields[3], fields[4]
    return total, total - idle - iowait, iowait


def postmaster() -> int | None:
    """The pid of a PostgreSQL server running on this machine (a `postgres` process whose
    parent is not one), or None."""
    def comm(pid: str) -> str:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return ""

    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and comm(proc.name) in ("postgres", "postmaster"):
            status = (proc / "status").read_text()
            parent = re.search(r"^PPid:\s+(\d+)", status, re.M).group(1)
            if comm(parent) not in ("postgres", "postmaster"):
                return int(proc.name)
    return None


def server_cpu_ticks(pid: int | None) -> int | None:
    """The CPU time of the PostgreSQL server `pid` so far, in ticks: its own, its live
    processes' (checkpointer, WAL writer, backends) and that of the processes it has
    reaped (each backend, once its connection closed)."""
    if pid is None:
        return None

    def ticks(p: int, children: bool) -> int:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        # utime, stime, cutime, cstime: fields 14 to 17 of proc(5), from the state on.
        return sum(int(x) for x in fields[11:15 if children else 13])

    try:
        total = ticks(pid, True)
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if re.search(rf"^PPid:\s+{pid}$", (proc / "status").read_text(), re.M):
                        total += ticks(int(proc.name), False)
                except OSError:
                    pass  # gone meanwhile: reaped, so counted in the server's own
        return total
    except OSError:
        return None


def spawn_machine(cmd: list, server: int | None = None) -> Run:
    """`spawn`, with the share of the machine's CPUs that were busy while it ran (every
    process: the PostgreSQL server's too, and whatever else this shared machine ran) as
    `run.machine = (busy, iowait)`, each in CPUs (0 to `nproc`); with `server` (a
    postmaster's pid), the CPUs the server kept busy meanwhile as `run.server_cpus`
    (its other clients' work included)."""
    before, server_before = cpu_ticks(), server_cpu_ticks(server)
    run = spawn(cmd)
    time.sleep(0.05)  # the last backend exits and is reaped
    after, server_after = cpu_ticks(), server_cpu_ticks(server)
    total = max(after[0] - before[0], 1)
    cpus = os.cpu_count() or 1
    run.machine = ((after[1] - before[1]) / total * cpus, (after[2] - before[2]) / total * cpus)
    run.server_cpus = (None if server_before is None or server_after is None else
                       (server_after - server_before) / os.sysconf("SC_CLK_TCK") / run.wall)
    return run


def fanout_fsyncs(files: int = 10) -> dict:
    """fsync/fdatasync calls per SQLite file of the two loops and of 8 workers (strace -c,
    one run of `files` files each)."""
    if shutil.which("strace") is None:
        return {}
    counts = {}
    for key, label, _, make in fanout_cases("sqlite"):
        if key not in ("loop", "jobs8", "sqlx"):
            continue
        folder = SCRATCH / "fanout" / "strace"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        out = SCRATCH / "fanout" / "strace.txt"
        subprocess.run(
            ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(out),
             *map(str, make(folder, files))],
            env=ENV, capture_output=True, check=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
        calls = sum(int(f[3]) for f in (line.split() for line in out.read_text().splitlines())
                    if f and f[-1] in ("fsync", "fdatasync"))
        counts[label] = calls / files
    return counts


def bench_fanout(reps: int, count: int, pg_count: int, each_round=None) -> dict:
    """Each case `reps` times, interleaved (the order rotates each round): SQLite, `count`
    new files in a new folder per sample (removed after, not timed); PostgreSQL,
    `pg_count` schemas made in a new database per sample, before the measured command
    (not timed), the database dropped after. After each round, `each_round(results so
    far)`: a long run stopped part way keeps the rounds it finished."""
    root = SCRATCH / "fanout"
    sqlite: dict = {}
    postgres: dict = {}
    server = pg_server() if pg_count else None
    server_pid = postmaster() if server is not None else None
    fsyncs = fanout_fsyncs()

    def results(rounds: int) -> dict:
        return {
            "date": datetime.date.today().isoformat(),
            "reps": rounds,
            "asked": reps,
            "load": os.getloadavg()[0],
            "cpus": os.cpu_count(),
            "fsyncs": fsyncs,
            "sqlite": {"count": count, "runs": sqlite},
            "postgres": {"count": pg_count, "runs": postgres, "server": server,
                         "url": re.sub(r"//[^@/]*@", "//", PG_URL)} if server is not None else None,
        }

    for rep in range(reps):
        cases = fanout_cases("sqlite")
        shift = rep % len(cases)
        for key, label, _, make in cases[shift:] + cases[:shift]:
            folder = root / f"{key}-{rep}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            try:
                run = spawn_machine(make(folder, count))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            sqlite.setdefault(label, []).append(run)
            log(f"fanout: SQLite {label}: {run.ns / 1e9:.1f} s")
        if server is not None:
            cases = fanout_cases("pg")
            shift = rep % len(cases)
            for key, label, _, make in cases[shift:] + cases[:shift]:
                database = f"bench_fanout_{key}_{rep}"
                url = pg_url(database)
                pg_admin("drop", database)  # left over from a run that was stopped
                pg_admin("create", database)
                try:
                    spawn([FANOUT, "pg-setup", url, "tenant", pg_count])
                    run = spawn_machine(make(url, "tenant", pg_count), server_pid)
                finally:
                    pg_admin("drop", database)
                postgres.setdefault(label, []).append(run)
                log(f"fanout: PostgreSQL {label}: {run.ns / 1e9:.1f} s")
        log(f"fanout: round {rep + 1}/{reps} done")
        if each_round is not None:
            each_round(results(rep + 1))
    return results(reps)


def fanout_rows(part: dict) -> list[dict]:
    """One row per case: label, workers, median and min wall time (in-process, s),
    targets/s, speed-up over the sequential loop (medians), the client's CPUs and the
    machine's busy and I/O-waiting CPUs (medians)."""
    runs = part["runs"]
    loop = med([r.ns for r in runs[FANOUT_LOOP]]) / 1e9
    rows = []
    for _, label, jobs, _ in fanout_cases("sqlite"):
        if label not in runs:
            continue
        rs = runs[label]
        m = med([r.ns for r in rs]) / 1e9
        rows.append({
            "label": label,
            "jobs": jobs,
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
    return rows


def fanout_table(part: dict) -> list[str]:
    rows = fanout_rows(part)
    server = all(row["server"] is not None for row in rows)
    lines = ["| tool | workers | wall time, median (min) | targets/s | speed-up over the loop "
             f"| client CPU |{' server CPU |' if server else ''} machine: busy CPUs, waiting for I/O |",
             "|---|---|---|---|---|---|---|" + ("---|" if server else "")]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['jobs'] or 1} | {ms(row['median'])} ({ms(row['min'])}) | "
            f"{row['rate']:,.0f} | {row['speedup']:.2f}x | {row['client_cpus']:.2f} | "
            + (f"{row['server']:.2f} | " if server else "")
            + f"{row['busy']:.2f}, {row['iowait']:.2f} |")
    return lines


def last_fanout() -> dict | None:
    """The last `--only fanout` run's results, saved in bench/target/."""
    saved = TARGET / "last-fanout-run.pickle"
    if not saved.exists():
        return None
    with saved.open("rb") as f:
        return pickle.load(f)


def fanout_section(data: dict) -> list[str]:
    """Section 7 of the page: the fan-out tables, or a note that they were not measured."""
    fan = data.get("fanout") or last_fanout()
    lines: list[str] = []
    w = lines.append
    w(f"{FANOUT_HEADING}: one migrator over many databases (`Migrator::fan_out`, issue 13)")
    w("")
    if not fan:
        w("Not measured in this run; `python3 bench/run.py --only fanout` measures it.")
        w("")
        return lines
    sq = fan["sqlite"]
    stopped = (f" (the run was stopped after {fan['reps']} of the {fan['asked']} rounds asked for)"
               if fan["reps"] < fan.get("asked", fan["reps"]) else "")
    w(f"Written by `python3 bench/run.py --only fanout` on {fan['date']}: {fan['reps']} samples "
      f"of each{stopped}, the cases interleaved (the order rotates each round); median (min). Every "
      f"target gets the same {FANOUT_MIGRATIONS} migrations (two tables with an index each, then "
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
    w(f"Files `tenant00001.db` .. in a new folder per sample, created by opening them "
      "(journal mode DELETE, `synchronous` FULL, the defaults of both tools); the folder is "
      "removed after (not timed).")
    w("")
    lines.extend(fanout_table(sq))
    w("")
    fsyncs = fan.get("fsyncs") or {}
    if fsyncs:
        w("fsync and fdatasync calls per file (`strace -f -c`, one run of 10 files each): " +
          "; ".join(f"{label}: {calls:.0f}" for label, calls in fsyncs.items()) + ".")
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
        lines.extend(fanout_table(pg))
        w("")
    else:
        w("PostgreSQL: not measured in this run (no server answered at "
          "`MIGRATE_BENCH_POSTGRES`, or `--fanout-pg-count 0`).")
        w("")
    return lines


def fanout_fields(data: dict) -> dict:
    """The fan-out figures the analysis quotes; `n/a` when they were not measured."""
    fan = data.get("fanout") or last_fanout()
    fields: dict = {}
    for side in ("sq", "pg"):
        part = fan and fan["sqlite" if side == "sq" else "postgres"]
        rows = {row["jobs"] or row["label"]: row for row in fanout_rows(part)} if part else {}
        fields[f"fo_{side}_count"] = f"{part['count']:,}" if part else "n/a"
        for key, row in [*((j, rows.get(j)) for j in FANOUT_JOBS), ("loop", rows.get(FANOUT_LOOP)),
                         ("sqlx", rows.get(FANOUT_SQLX))]:
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
        loop, eight = rows.get(FANOUT_LOOP), rows.get(8)
        fields[f"fo_{side}_loop_min"] = ms(loop["min"]) if loop else "n/a"
        fields[f"fo_{side}_8_min_speedup"] = f"{loop['min'] / eight['min']:.2f}x" if loop and eight else "n/a"
        best = max((rows[j] for j in FANOUT_JOBS if j in rows), key=lambda r: r["speedup"], default=None)
        fields[f"fo_{side}_best_jobs"] = str(best["jobs"]) if best else "n/a"
        fields[f"fo_{side}_best_speedup"] = f"{best['speedup']:.2f}x" if best else "n/a"
    fields["fo_cpus"] = str((fan or {}).get("cpus", os.cpu_count()))
    fsyncs = (fan or {}).get("fsyncs") or {}
    fields["fo_fsync_loop"] = f"{fsyncs[FANOUT_LOOP]:.0f}" if FANOUT_LOOP in fsyncs else "n/a"
    fields["fo_fsync_sqlx"] = f"{fsyncs[FANOUT_SQLX]:.0f}" if FANOUT_SQLX in fsyncs else "n/a"
    fields["fo_fsync_8"] = f"{fsyncs[fanout_label(8)]:.0f}" if fanout_label(8) in fsyncs else "n/a"
    fields["fo_date"] = (fan or {}).get("date", "n/a")
    return fields


def only_fanout(args) -> None:
    """`--only fanout`: section 7 alone, saved in bench/target/last-fanout-run.pickle (which
    the full report reads too), and written into the last full run's page when its results
    are saved here, else into the existing page (section 7 and the analysis's fan-out
    subsection replaced or added; every other row stays as it was)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log("building the tools (release)")
    for tool, only in (("migrate", ["--bin", "migrate-fanout"]), ("sqlx", []), ("raw", [])):
        manifest = BENCH / "tools" / tool / "Cargo.toml"
        wall, _ = cargo(["build", "--release", *only, "--manifest-path", str(manifest)], target_dir=TARGET)
        log(f"  {tool}: {wall:.0f} s")
    log(f"fan-out: {args.fanout_count} SQLite files, {args.fanout_pg_count} PostgreSQL schemas, "
        f"{args.reps} rounds")

    def save(fan: dict) -> None:
        with (TARGET / "last-fanout-run.pickle").open("wb") as f:
            pickle.dump(fan, f)
        write_fanout(args, fan)

    bench_fanout(args.reps, args.fanout_count, args.fanout_pg_count, save)


def write_fanout(args, fan: dict) -> None:
    """Section 7 from `fan` into the last full run's page, or into the existing page."""

    def update(merged: dict, _full_args) -> bool:
        merged["fanout"] = fan
        return True

    if not merge_into_full_run(args, update):
        splice_fanout({"fanout": fan}, existing_page(args))


def splice_fanout(data: dict, page: Path) -> None:
    """Replaces (or adds) section 7 and the analysis's fan-out subsection of `page`."""
    analysis = (BENCH / "analysis.md").read_text()
    part = analysis[analysis.index(FANOUT_ANALYSIS):].format(**fanout_fields(data))
    splice_section(page, FANOUT_HEADING, fanout_section(data), FANOUT_ANALYSIS, part, "fan-out")


# ---------------------------------------------------------------------------------------
# The report


def med(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value:.3f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    fs = subprocess.run(["df", "-T", str(SCRATCH)], capture_output=True, text=True).stdout.splitlines()
    fs_type = fs[-1].split()[1] if len(fs) > 1 else "unknown"
    return [
        f"- CPU: {cpu}, `nproc` = {os.cpu_count()}",
        f"- memory: {memory}",
        f"- OS: {platform.system()} {platform.release()}, {platform.libc_ver()[0]} {platform.libc_ver()[1]}",
        f"- {rustc}; Python {platform.python_version()}",
        f"- the SQLite files are on {fs_type}, in `bench/target/scratch/`",
    ]


def report(args, data: dict, out: Path) -> None:
    apply_r = data["apply"]
    check_r, _ = data["check"]
    disc = data["discovery"]
    versions = data["versions"]
    lines: list[str] = []
    w = lines.append
    w("# Performance")
    w("")
    w(f"Written by `python3 bench/run.py{' --quick' if args.quick else ''}` on "
      f"{data['date']} (the whole run took {data['elapsed'] / 60:.1f} min). Every number "
      f"below comes from that run{LATER_ROWS if data.get('startup_date', data['date']) != data['date'] else ''}; "
      "run it again to refresh them. The benchmark is in "
      "[`bench/`](../bench/): one small binary per tool, each its own Cargo workspace, and "
      "this driver.")
    w("")
    w("## Method")
    w("")
    w(f"- Each workload ran **{args.reps} times** per tool, the tools interleaved (the order "
      "rotates each round). Tables give the **median** and the **min**, and the ratio of "
      "the median to the raw rusqlite floor measured in the same run.")
    w("- Every run is a new process on a fresh SQLite file on disk (`synchronous` at its "
      "default, FULL). *In-process* times are what the tool's binary measured around the "
      "call an application makes, including opening the connection; *process* times are "
      "spawn to exit, measured by the driver; max RSS is GNU time's `%M` (the peak of the "
      "process it forks, so the driver's own memory is not counted).")
    w("- The peers are used the way their docs show: rusqlite_migration "
      "`Migrations::new(vec![M::up(..)])` + `to_latest`; refinery "
      "`Runner::new(&[Migration::unapplied(..)])` + `run` (and `set_grouped(true)` for one "
      "transaction); sqlx `sqlx::migrate!(\"<folder>\")` over generated `.sql` files + "
      "`Migrator::run(&pool)` on a tokio current-thread runtime; diesel "
      "`embed_migrations!(\"<folder>\")` over generated `<version>_<name>/up.sql` folders + "
      "`conn.run_pending_migrations(..)` on a `SqliteConnection`. migrate's migrations are "
      "structs with `#[migration]`, generated by `bench/tools/migrate/build.rs`, found with "
      "`Migrator::discovered()`.")
    w("- The disk of this machine is shared: one durable commit costs from under 1 ms to "
      "over 10 ms from one minute to the next, so the per-migration-transaction rows "
      "(fsync-bound) are noisy; the fsync counts below are exact and say the same more "
      "steadily.")
    w("")
    w("## Machine and versions")
    w("")
    lines.extend(machine())
    for tool in TOOLS:
        w(f"- {tool}: links SQLite {versions.get(tool, '?')}; {data['crates'].get(tool, '')}")
    w("")

    # ---- targets
    n_max = max(args.ns)
    t = {}

    def apply_med(n, journal, label):
        runs = apply_r.get((n, journal, "per", label)) or apply_r.get((n, journal, "one", label))
        return med([r.ns for r in runs]) / 1e9 if runs else float("nan")

    raw_per = "raw floor (BEGIN IMMEDIATE, statement, history row, COMMIT)"
    raw_one = "raw floor, all in one transaction"
    for journal in args.journals:
        t[("per", journal)] = apply_med(n_max, journal, "migrate") / apply_med(n_max, journal, raw_per)
        t[("one", journal)] = (
            apply_med(n_max, journal, "migrate, all_or_nothing(true)") / apply_med(n_max, journal, raw_one)
        )

    disc_first = med([r.ns for r in disc["10000"]]) / 1e9 if "10000" in disc else float("nan")
    disc_proto = med([r.ns for r in disc["10000-proto"]]) / 1e9 if "10000-proto" in disc else float("nan")

    def rss(n, journal, group, label):
        return med([r.rss_kib for r in apply_r[(n, journal, group, label)]])

    rss_per = rss(n_max, "delete", "per", "migrate") - rss(n_max, "delete", "per", raw_per)
    rss_one = rss(n_max, "delete", "one", "migrate, all_or_nothing(true)") - rss(n_max, "delete", "one", raw_one)

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    w(f"## The targets (issue 6), at N = {n_max}")
    w("")
    if data.get("startup_date") and data["startup_date"] != data["date"]:
        lines.extend([startup_note(args, data), ""])
    w("| target | measured (medians) | |")
    w("|---|---|---|")
    w(f"| apply {n_max}, one transaction each: within 1.10x of the raw per-migration floor | "
      + ", ".join(f"{j}: {t[('per', j)]:.2f}x" for j in args.journals)
      + f" | {verdict(t[('per', 'delete')] <= 1.10)} (default journal) |")
    w(f"| all-or-nothing, apply {n_max}: within 1.10x of the raw one-transaction floor | "
      + ", ".join(f"{j}: {t[('one', j)]:.2f}x" for j in args.journals)
      + f" | {verdict(t[('one', 'delete')] <= 1.10)} (default journal) |")
    lines.extend(startup_target_rows(args, data))
    w(f"| discovery of 10,000: under 1 ms | {ms(disc_first)} (first call, in-process) | "
      f"{verdict(disc_first < 0.001)} |")
    w(f"| memory, apply {n_max}: at most the raw floor + 1 MiB | per-migration "
      f"{'+' if rss_per >= 0 else ''}{mib(rss_per)}, all-or-nothing {'+' if rss_one >= 0 else ''}{mib(rss_one)} | "
      f"{verdict(rss_per <= 1024 and rss_one <= 1024)} |")
    if data.get("build"):
        b = data["build"]
        w(f"| build: the macro crate depends on only what it uses | migrate-macros: "
          f"{data['macro_deps']}; clean build {b['migrate']['clean']:.0f} s vs raw rusqlite "
          f"{b['raw']['clean']:.0f} s (table below) | {verdict(data['macro_deps_ok'])} |")
    w("")
    w("Explanations and proposed changes for every target missed: "
      "[below](#where-the-time-goes-and-what-to-change).")
    w("")

    # ---- apply tables
    w("## 1. Applying N migrations (`CREATE TABLE t_i (id INTEGER PRIMARY KEY, v TEXT)`)")
    w("")
    w("In-process time: open, migrate, close. Median (min), and the median over the "
      "floor of the same group (per-migration transactions: the raw per-migration floor; "
      "one transaction: the raw one-transaction floor).")
    for journal in args.journals:
        w("")
        w(f"### Journal mode: {'default (DELETE)' if journal == 'delete' else 'WAL'}")
        w("")
        w("| tool | " + " | ".join(f"N = {n}" for n in args.ns) + " |")
        w("|---|" + "---|" * len(args.ns))
        for group, label, _ in apply_cases(args.ns[0], journal):
            floor_label = raw_per if group == "per" else raw_one
            cells = []
            for n in args.ns:
                runs = apply_r[(n, journal, group, label)]
                floor = med([r.ns for r in apply_r[(n, journal, group, floor_label)]])
                m = med([r.ns for r in runs])
                cells.append(f"{ms(m / 1e9)} ({ms(min(r.ns for r in runs) / 1e9)}) {m / floor:.2f}x")
            w(f"| {label} | " + " | ".join(cells) + " |")
    if data.get("fsync"):
        w("")
        w(f"fsync calls per migration (strace, one apply of {data['fsync_n']}): the durable "
          "commits each tool pays for, exactly.")
        w("")
        w("| tool | default journal | WAL |")
        w("|---|---|---|")
        for group, label, _ in apply_cases(args.ns[0], "delete"):
            f = data["fsync"]
            w(f"| {label} | {f.get(('delete', label), float('nan')):.2f} | {f.get(('wal', label), float('nan')):.2f} |")
    w("")
    if data.get("callgrind_apply"):
        w(f"Instructions applying {n_max} in one transaction (callgrind, WAL):")
        w("")
        w("| process | total | history rows | foreign-key checks | fingerprint writes |")
        w("|---|---|---|---|---|")
        for label, c in data["callgrind_apply"].items():
            # The floor has no foreign-key check and no fingerprint: not applicable.
            na = lambda v: f"{v:,}" if v or label.startswith("migrate") else "n/a"
            w(f"| {label} | {c['total']:,} | {c['history_row']:,} | {na(c['fk_check'])} | {na(c['fingerprint'])} |")
        w("")
    if data.get("callgrind_apply_per"):
        w(f"Instructions applying {n_max} with one transaction per migration (callgrind, WAL; "
          "inclusive counts, so `foreign_keys::Schema::read` is part of `Backend::begin` and "
          "`Backend::check`):")
        w("")
        w("| process | total | history rows | `Backend::begin` | `Backend::check` | of which `foreign_keys::Schema::read` | fingerprint writes |")
        w("|---|---|---|---|---|---|---|")
        for label, c in data["callgrind_apply_per"].items():
            na = lambda v: f"{v:,}" if v or label.startswith("migrate") else "n/a"
            w(f"| {label} | {c['total']:,} | {c['history_row']:,} | {na(c['begin'])} | "
              f"{na(c['fk_check'])} | {na(c['schema_read'])} | {na(c['fingerprint'])} |")
        w("")

    # ---- start-up check
    lines.extend(startup_section(args, data))

    # ---- discovery
    w("## 3. Discovery of 10,000 registered migrations")
    w("")
    w("First call in a fresh process, in-process time; median (min).")
    w("")
    w("| call | 10,000 | 1,000 |")
    w("|---|---|---|")

    def disc_cell(key, field="ns"):
        runs = disc.get(key, [])
        if not runs:
            return ""
        values = [float(r.values[field]) / 1e9 for r in runs]
        return f"{ms(med(values))} ({ms(min(values))})"

    w(f"| `discovered_migrations()`, first call | {disc_cell('10000')} | {disc_cell('1000')} |")
    w(f"| then `Migrator::discovered()` | {disc_cell('10000', 'migrator_discovered_ns')} | {disc_cell('1000', 'migrator_discovered_ns')} |")
    w(f"| the same sort and check again, warm | {disc_cell('10000', 'warm_ns')} | {disc_cell('1000', 'warm_ns')} |")
    w(f"| prototype: the sort with set names compared without `memcmp` (bench code) | {disc_cell('10000-proto')} | {disc_cell('1000-proto')} |")
    w("")
    empty_cmp = med([float(r.values["empty_str_cmp_ns"]) for r in disc.get("10000", [])]) if disc.get("10000") else float("nan")
    if "discovery" in data.get("callgrind_discovery", {}):
        c = data["callgrind_discovery"]
        w(f"Instructions of `discovered_migrations()` at 10,000 (callgrind): {c['discovery']:,}; "
          f"one comparison of two empty `&str`s measured in the same process: {empty_cmp:.0f} ns.")
        w("")

    # ---- memory
    w(f"## 4. Peak memory (max RSS) applying {n_max}")
    w("")
    w("| tool | default journal | WAL |")
    w("|---|---|---|")
    for group, label, _ in apply_cases(n_max, "delete"):
        cells = [mib(med([r.rss_kib for r in apply_r[(n_max, j, group, label)]])) for j in args.journals]
        while len(cells) < 2:
            cells.append("")
        w(f"| {label} | " + " | ".join(cells) + " |")
    w(f"| {PROCESS_FLOOR} | {mib(med([r.rss_kib for r in check_r[(n_max, PROCESS_FLOOR)]]))} | |")
    w("")

    # ---- build
    w("## 5. Build cost: a minimal binary with 3 migrations")
    w("")
    if data.get("build"):
        w("A new project per tool (written by `bench/run.py` into `bench/target/buildcost/`), "
          "its dependencies fetched first, then `cargo build --release` in an empty target "
          "directory, timed; then one migration file added (for raw rusqlite and "
          "rusqlite_migration, whose migrations are listed in code, also its line in "
          "`main.rs`) and `cargo build --release` again. One build each (the clean builds "
          "take minutes): read differences under ~10% as noise."
          + (f" Built with `CARGO_BUILD_JOBS={data['build_jobs']}` (the machine was shared "
             "with other builds), so these times are those of that many jobs, not of every core."
             if data.get("build_jobs") else ""))
        w("")
        w("| tool | clean build | crates compiled | rebuild after adding a migration | crates compiled | binary size |")
        w("|---|---|---|---|---|---|")
        for tool in TOOLS:
            b = data["build"][tool]
            w(f"| {tool} | {b['clean']:.1f} s | {b['clean_crates']} | {b['rebuild']:.2f} s | "
              f"{b['rebuild_crates']} | {b['size'] / 1024 / 1024:.1f} MiB |")
        w("")
        w(f"migrate-macros compiles {data['macro_deps']} (`cargo tree` of the migrate minimal "
          "project shows the rest).")
    else:
        w("Not measured in this run (`--quick` or `--no-build-cost`).")
    w("")
    # ---- PostgreSQL
    lines.extend(pg_section(data))
    # ---- fan-out
    lines.extend(fanout_section(data))
    analysis = BENCH / "analysis.md"
    if analysis.exists() and not args.quick:
        w(fill_analysis(analysis.read_text(), data, args, {
            "disc_first": disc_first, "disc_proto": disc_proto, "empty_cmp": empty_cmp,
            "per": t[("per", "delete")], "one": t[("one", "delete")],
            "per_wal": t.get(("per", "wal"), float("nan")), "one_wal": t.get(("one", "wal"), float("nan")),
            "rss_per": rss_per, "rss_one": rss_one,
        }))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines).rstrip() + "\n")
    log(f"wrote {out.relative_to(ROOT)}")


# ---------------------------------------------------------------------------------------
# The start-up rows: written by the full report, and by `--only check` into the page of
# the last full run


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

# The labels of the start-up processes measured with callgrind.
CG_RAW = "raw floor"
CG_DEFAULT = "migrate, the default (narrow read)"
CG_FAST = "migrate, fast_start(true)"
CG_FAST_MISS = "migrate, fast_start(true) on a file applied without it"
CG_RM = "rusqlite_migration"


def startup_callgrind(paths: dict, n_max: int) -> dict:
    measured = _startup_callgrind(paths, n_max)
    # migrate reads its rows in a plain loop inside `read_applied` (no `try_process`): its
    # row loop is `read_applied` without the prepare (and schema load) it includes.
    for label in (CG_DEFAULT, CG_FAST_MISS):
        values = measured.get(label, {})
        if not values.get("rows") and values.get("read_applied"):
            values["rows"] = values["read_applied"] - values.get("prepare", 0)
    return measured


def _startup_callgrind(paths: dict, n_max: int) -> dict:
    return callgrind([
        (CG_RAW, [RAW, "check", paths[(n_max, RAW_CHECK)], n_max]),
        (CG_DEFAULT, [migrate_bin(n_max), "check", paths[(n_max, DEFAULT_CHECK)], n_max]),
        (CG_FAST, [migrate_bin(n_max), "check-fast", paths[(n_max, FAST_CHECK)], n_max]),
        # No fingerprint stored: the fast start misses and takes the full check. The
        # file is a copy, so the measured files stay as they were.
        (CG_FAST_MISS, [migrate_bin(n_max), "loop-check",
                        copy_db(paths[(n_max, DEFAULT_CHECK)], SCRATCH / "cg" / "miss.db"), 1, "fast"]),
        (CG_RM, [RUSQLITE_MIGRATION, "check", paths[(n_max, RM_CHECK)], n_max]),
    ], STARTUP_PATTERNS)


def startup_breakdown(data: dict, n_max: int) -> dict:
    _, paths = data["check"]
    return {
        "raw": spawn([RAW, "breakdown", paths[(n_max, RAW_CHECK)], 50, "history"]).values,
        "migrate": spawn([RAW, "breakdown", paths[(n_max, DEFAULT_CHECK)], 50, "migrate_history"]).values,
    }


def only_check(args) -> None:
    """`--only check`: the start-up workload, its breakdown and its instruction counts,
    merged into the last full run's results when they are saved here, else written into
    the start-up rows of the page that run wrote."""
    data: dict = {"date": datetime.date.today().isoformat()}
    data["startup_date"] = data["date"]
    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    log("building the tools (release)")
    for tool in TOOLS:
        if tool in args.without:
            continue
        manifest = BENCH / "tools" / tool / "Cargo.toml"
        wall, _ = cargo(["build", "--release", "--manifest-path", str(manifest)], target_dir=TARGET)
        log(f"  {tool}: {wall:.0f} s")
    CHECK_TOOLS[:] = [row for row in CHECK_TOOLS if row[0] not in args.without]
    data["without"] = list(args.without)
    log("workload 2: start-up check")
    data["check"] = bench_check(args.ns, args.reps)
    n_max = max(args.ns)
    data["breakdown"] = startup_breakdown(data, n_max)
    data["callgrind"] = startup_callgrind(data["check"][1], n_max)
    data["callgrind_small"] = startup_callgrind_small(data["check"][1], args.ns)
    with (TARGET / "last-check-run.pickle").open("wb") as f:
        pickle.dump((data, args), f)

    def update(merged: dict, full_args) -> bool:
        if full_args.ns != args.ns:
            return False
        for key in ("check", "breakdown", "callgrind", "callgrind_small", "startup_date"):
            merged[key] = data[key]
        full_args.reps_check = args.reps
        return True

    if not merge_into_full_run(args, update):
        splice_startup(args, data, existing_page(args))


def startup_callgrind_small(paths: dict, ns: list[int]) -> dict:
    """Totals of the floor and of migrate's default at the smaller N."""
    out = {}
    for n in ns[:-1]:
        c = callgrind([
            (f"raw floor, N = {n}", [RAW, "check", paths[(n, RAW_CHECK)], n]),
            (f"migrate default, N = {n}", [migrate_bin(n), "check", paths[(n, DEFAULT_CHECK)], n]),
        ])
        out[n] = (c[f"raw floor, N = {n}"]["total"], c[f"migrate default, N = {n}"]["total"])
    return out


def copy_db(source: Path, dest: Path) -> Path:
    shutil.copy(source, fresh(dest))
    return dest


def startup_medians(args, data) -> dict:
    check_r, _ = data["check"]

    def check_med(n, label):
        return med([r.ns for r in check_r[(n, label)]]) / 1e9

    return {
        (n, label): check_med(n, label) for n in args.ns for label, _, _ in CHECK_TOOLS
    }


def cg_value(data, label, key) -> int:
    return data.get("callgrind", {}).get(label, {}).get(key, 0)


def startup_target_rows(args, data) -> list[str]:
    n_max = max(args.ns)
    m = startup_medians(args, data)
    raw, default, fast, rm = (m[(n_max, k)] for k in (RAW_CHECK, DEFAULT_CHECK, FAST_CHECK, RM_CHECK))
    verdict = lambda ok: "**met**" if ok else "**missed**"
    small = data.get("callgrind_small") or {}
    others = ", ".join(
        f"N = {n}: {ratio(m[(n, DEFAULT_CHECK)], m[(n, RAW_CHECK)])}"
        + (f", instructions {small[n][1] / small[n][0]:.2f}x" if n in small else "")
        for n in args.ns if n != n_max)
    cg = ""
    if data.get("callgrind"):
        cg = (f"; instructions {cg_value(data, CG_DEFAULT, 'total'):,} vs "
              f"{cg_value(data, CG_RAW, 'total'):,} = "
              f"{cg_value(data, CG_DEFAULT, 'total') / cg_value(data, CG_RAW, 'total'):.2f}x")
    cg_fast = ""
    if data.get("callgrind"):
        cg_fast = (f"; instructions {cg_value(data, CG_FAST, 'total'):,} vs "
                   f"{cg_value(data, CG_RM, 'total'):,} = "
                   f"{cg_value(data, CG_FAST, 'total') / cg_value(data, CG_RM, 'total'):.2f}x")
    # Judged on both measures: wall time is noisy on a shared machine, instructions are not.
    wall_ok = default <= 1.10 * raw
    judged = verdict(wall_ok) + " (wall time)"
    if data.get("callgrind"):
        cg_ok = cg_value(data, CG_DEFAULT, "total") <= 1.10 * cg_value(data, CG_RAW, "total")
        judged = verdict(wall_ok and cg_ok) + (
            "" if wall_ok == cg_ok else
            f": wall time {'within' if wall_ok else 'above'} 1.10x, instructions "
            f"{'within' if cg_ok else 'above'}")
    return [
        f"| start-up check, {n_max} applied: within 1.10x of the raw floor, on the default path "
        f"(the narrow history read) | {ms(default)} vs floor {ms(raw)} = {ratio(default, raw)} "
        f"({others}){cg} | {judged} |",
        f"| start-up check: match rusqlite_migration's header-only check, keeping the history "
        f"(the opt-in `fast_start(true)`) | {ms(fast)} vs {ms(rm)} = {ratio(fast, rm)}{cg_fast} | "
        f"{verdict(fast <= 1.10 * rm)} (within 1.10x, wall time), opt-in |",
    ]


def startup_section(args, data) -> list[str]:
    check_r, _ = data["check"]
    n_max = max(args.ns)
    lines: list[str] = []
    w = lines.append
    w("## 2. Start-up check with everything applied (a new process each time)")
    w("")
    if "load" in check_r:
        before, after = check_r["load"]
        w(f"The machine's 1-minute load average was {before:.1f} when this workload started and "
          f"{after:.1f} when it ended (`nproc` = {os.cpu_count()}): other jobs share it, and "
          "wall times scale with that; the instruction counts below do not.")
        w("")
    w("In-process: open plus the call that finds nothing to do, median (min) and the median "
      "over the raw floor's of the same N. Process: spawn to exit, which adds the process "
      "start (the process floor row). migrate's default reads the history narrowly "
      "(`PRAGMA data_version`, then `SELECT version, checksum, complete` of its set); "
      "`fast_start(true)` (opt-in) reads `PRAGMA user_version` and `PRAGMA schema_version` "
      "instead, on a file whose migrations were applied with it on.")
    w("")
    w("| tool | " + " | ".join(f"N = {n} in-process" for n in args.ns) + f" | N = {n_max} process |")
    w("|---|" + "---|" * (len(args.ns) + 1))
    m = startup_medians(args, data)
    for label in [label for label, _, _ in CHECK_TOOLS] + [PROCESS_FLOOR]:
        cells = []
        for n in args.ns:
            runs = check_r[(n, label)]
            if label == PROCESS_FLOOR:
                cells.append("")
            else:
                cells.append(f"{ms(m[(n, label)])} ({ms(min(r.ns for r in runs) / 1e9)}) "
                             f"{ratio(m[(n, label)], m[(n, RAW_CHECK)])}")
        runs = check_r[(n_max, label)]
        process = f"{ms(med([r.wall for r in runs]))} ({ms(min(r.wall for r in runs))})"
        w(f"| {label} | " + " | ".join(cells) + f" | {process} |")
    w("")
    if data.get("breakdown"):
        w(f"Where a start-up check's time goes at N = {n_max} (`bench-raw breakdown`: each step "
          "on a fresh connection, median of 50 in one process):")
        w("")
        w("| step | raw floor's database | migrate's database |")
        w("|---|---|---|")
        names = {
            "open": "open the connection",
            "pragma_user_version": "first statement: `PRAGMA user_version` (reads the header)",
            "pragma_data_version": "`PRAGMA data_version`",
            "pragma_schema_version": "`PRAGMA schema_version`",
            "schema_load": "prepare the first statement naming a table: **the schema load**",
            "history_rows": "read every history row (all columns)",
        }
        for key, name in names.items():
            a = data["breakdown"]["raw"].get(key)
            b = data["breakdown"]["migrate"].get(key)
            w(f"| {name} | {ms(float(a) / 1e9) if a else ''} | {ms(float(b) / 1e9) if b else ''} |")
        w("")
    if data.get("callgrind"):
        w(f"Instructions (valgrind callgrind, one process, N = {n_max}; repeatable where "
          "wall time on this shared machine is not). Every function is counted "
          "(`callgrind_annotate --threshold=100`): \"not called\" means the function does "
          "not appear in the profile at all.")
        w("")
        w("| process | total | over the raw floor | schema load (`sqlite3InitOne`) | everything else |")
        w("|---|---|---|---|---|")
        raw_total = cg_value(data, CG_RAW, "total")
        for label, c in data["callgrind"].items():
            schema = f"{c['schema']:,}" if c["schema"] else "0 (not called)"
            w(f"| {label} | {c['total']:,} | {c['total'] / raw_total:.2f}x | {schema} | "
              f"{c['total'] - c['schema']:,} |")
        w("")
        small = data.get("callgrind_small") or {}
        if small:
            w("The default against the floor at the smaller N (totals): " + "; ".join(
                f"N = {n}: {d:,} vs {r:,} = {d / r:.2f}x" for n, (r, d) in sorted(small.items())) + ".")
            w("")
        c = data["callgrind"].get(CG_DEFAULT, {})
        r = data["callgrind"].get(CG_RAW, {})
        if c and "prepare" in c:
            w(f"Where the instructions go, N = {n_max} (inclusive: a part includes what it "
              "calls, so the rows overlap and do not add up to the total):")
            w("")
            w("| part | migrate, the default | raw floor |")
            w("|---|---|---|")

            def cell(d, key):
                return f"{d.get(key, 0):,}" if d.get(key, 0) else "0 (not called)"

            for key, name in (
                ("total", "the whole process"),
                ("prepare", "preparing statements (`prepare_with_flags`, includes the schema load)"),
                ("schema", "of which the schema load (`sqlite3InitOne`)"),
                ("step", "running them (`sqlite3_step`, every row)"),
                ("close", "closing the connection (`sqlite3_close`)"),
                ("rows", "the loop that reads the history rows into a `Vec` (their `sqlite3_step` included; migrate: `read_applied` less the prepare)"),
                ("open", "`Sqlite::open` (the connection and its `PRAGMA schema_version`)"),
                ("discovered", "`Migrator::discovered` (discovery's sort and the set's filter)"),
                ("read_applied", "`Backend::read_applied_unless_up_to_date` (its default: `read_applied`, with its prepare, schema load and rows, then the comparison)"),
                ("plan", "`plan::plan` (only when the history is not up to date)"),
                ("of_known", "`fingerprint::of_known` (only with a stored fingerprint)"),
                ("of_history", "`Fingerprint::of_history` (only when there is something to do)"),
            ):
                migrate_only = key in ("open", "discovered", "read_applied", "plan", "of_known", "of_history")
                w(f"| {name} | {cell(c, key)} | {'' if migrate_only else cell(r, key)} |")
            w("")
    return lines


LATER_ROWS = ", except the rows a note says come from a later run"


def startup_note(args, data) -> str:
    return (f"**The start-up rows were rerun on {data['startup_date']}** with `python3 "
            f"bench/run.py --only check` ({getattr(args, 'reps_check', args.reps)} repeats, N = "
            f"{', '.join(map(str, args.ns))}): the two start-up targets below, section 2 and "
            "the analysis's start-up subsection. Every other figure on this page comes from "
            "the full run named above, except where a table says otherwise."
            + (f" Left out of the rerun: {', '.join(data['without'])} (see the previous "
               "version of this page)." if data.get("without") else ""))


def startup_fields(args, data) -> dict:
    n_max = max(args.ns)
    m = startup_medians(args, data)
    fields = {"n": n_max}
    for key, label in (("raw_check", RAW_CHECK), ("default", DEFAULT_CHECK), ("fast", FAST_CHECK), ("rm", RM_CHECK)):
        for n in args.ns:
            fields[f"{key}_{n}"] = ms(m[(n, label)])
            fields[f"{key}_ratio_{n}"] = ratio(m[(n, label)], m[(n, RAW_CHECK)])
        fields[key] = fields[f"{key}_{n_max}"]
        fields[f"{key}_ratio"] = fields[f"{key}_ratio_{n_max}"]
    fields["fast_ratio_rm"] = ratio(m[(n_max, FAST_CHECK)], m[(n_max, RM_CHECK)])
    for peer in ("refinery", "sqlx", "diesel"):
        # Left out with --without: not measured in this run.
        have = (n_max, peer) in m
        fields[f"{peer}_check"] = ms(m[(n_max, peer)]) if have else "n/a"
        fields[f"{peer}_check_ratio"] = ratio(m[(n_max, peer)], m[(n_max, RAW_CHECK)]) if have else "n/a"
    for key, label in (("raw", CG_RAW), ("default", CG_DEFAULT), ("fast", CG_FAST),
                       ("miss", CG_FAST_MISS), ("rm", CG_RM)):
        total, schema = cg_value(data, label, "total"), cg_value(data, label, "schema")
        fields[f"cg_{key}_total"] = f"{total:,}"
        fields[f"cg_{key}_schema"] = f"{schema:,}"
        fields[f"cg_{key}_rest"] = f"{total - schema:,}"
    raw_total = cg_value(data, CG_RAW, "total") or 1
    fields["cg_default_ratio"] = f"{cg_value(data, CG_DEFAULT, 'total') / raw_total:.2f}x"
    fields["cg_fast_ratio_rm"] = f"{cg_value(data, CG_FAST, 'total') / (cg_value(data, CG_RM, 'total') or 1):.2f}x"
    for key in (*STARTUP_PATTERNS, "schema", "total"):
        fields[f"cgd_{key}"] = f"{cg_value(data, CG_DEFAULT, key):,}"
        fields[f"cgr_{key}"] = f"{cg_value(data, CG_RAW, key):,}"
    fields["cgd_rows_extra"] = f"{cg_value(data, CG_DEFAULT, 'rows') - cg_value(data, CG_RAW, 'rows'):,}"
    fields["cgd_step_extra"] = f"{cg_value(data, CG_DEFAULT, 'step') - cg_value(data, CG_RAW, 'step'):,}"
    for n in args.ns[:-1]:
        r, d = (data.get("callgrind_small") or {}).get(n, (0, 0))
        fields[f"cg_default_ratio_{n}"] = f"{d / r:.2f}x" if r else "n/a"
    fields["cgd_target"] = f"{int(1.10 * cg_value(data, CG_RAW, 'total')):,}"
    fields["cgd_extra"] = f"{cg_value(data, CG_DEFAULT, 'total') - cg_value(data, CG_RAW, 'total'):,}"
    fields["cgd_hashes"] = f"{cg_value(data, CG_DEFAULT, 'of_known') + cg_value(data, CG_DEFAULT, 'of_history'):,}"
    return fields


def analysis_part(heading: str, until: str) -> str:
    text = (BENCH / "analysis.md").read_text()
    a = text.index(heading)
    return text[a:text.index(until, a)]


def splice_startup(args, data, page: Path) -> None:
    """Replaces the start-up rows of `page` (the report of the last full run) with this
    run's: the two start-up target rows, section 2, the analysis's introduction and its
    start-up subsection; says so under the targets' heading."""
    text = page.read_text()
    lines = text.split("\n")
    lines = [l for l in lines if not l.startswith("**The start-up rows were rerun")]
    if lines and LATER_ROWS not in text:
        for i, l in enumerate(lines):
            if l.startswith("Written by ") and "below comes from that run;" in l:
                lines[i] = l.replace("below comes from that run;", f"below comes from that run{LATER_ROWS};")
                break
    rows = [i for i, l in enumerate(lines) if l.startswith("| start-up check")]
    lines[rows[0]:rows[-1] + 1] = startup_target_rows(args, data)
    heading = next(i for i, l in enumerate(lines) if l.startswith("## The targets"))
    if lines[heading + 2] == "":
        del lines[heading + 2]  # the blank line after a previous note
    lines[heading + 2:heading + 2] = [startup_note(args, data), ""]
    text = "\n".join(lines)

    def between(text: str, start: str, end: str, new: str) -> str:
        a = text.index(start)
        return text[:a] + new + text[text.index(end, a):]

    text = between(text, "## 2. Start-up check", "## 3. ", "\n".join(startup_section(args, data)) + "\n")
    fields = startup_fields(args, data)
    text = between(text, "## Where the time goes", "### Applying",
                   analysis_part("## Where the time goes", "### Applying").format(**fields))
    text = between(text, "### The start-up check", "### Discovery",
                   analysis_part("### The start-up check", "### Discovery").format(**fields))
    page.write_text(text)
    log(f"wrote the start-up rows into {page}")



def fill_analysis(text: str, data: dict, args, v: dict) -> str:
    """The hand-written analysis (bench/analysis.md) with {placeholders} filled in from
    this run, so its figures are this run's too."""
    cg = data.get("callgrind", {})

    def cg_get(label, key):
        return cg.get(label, {}).get(key, 0)

    fields = {
        "n": max(args.ns),
        **startup_fields(args, data),
        "disc_first": ms(v["disc_first"]), "disc_proto": ms(v["disc_proto"]),
        "empty_cmp": f"{v['empty_cmp']:.0f} ns",
        "per": f"{v['per']:.2f}x", "one": f"{v['one']:.2f}x",
        "per_wal": f"{v['per_wal']:.2f}x", "one_wal": f"{v['one_wal']:.2f}x",
        "rss_per": f"{'+' if v['rss_per'] >= 0 else ''}{mib(v['rss_per'])}",
        "rss_one": f"{'+' if v['rss_one'] >= 0 else ''}{mib(v['rss_one'])}",
        "cg_disc": f"{data.get('callgrind_discovery', {}).get('discovery', 0):,}",
        "macro_deps": data.get("macro_deps", ""),
        **{f"b_{tool}_{key}": (
            (f"{data['build'][tool][key]:.0f} s" if key == "clean" else
             f"{data['build'][tool][key]:.1f} s" if key == "rebuild" else str(data["build"][tool][key]))
            if data.get("build") else "n/a")
           for tool in TOOLS for key in ("clean", "rebuild", "clean_crates")},
        **{f"b_{tool}_crates": (str(data["build"][tool]["clean_crates"]) if data.get("build") else "n/a")
           for tool in TOOLS},
        **{f"cga_{side}_{key}": f"{data.get('callgrind_apply', {}).get(label, {}).get(key, 0):,}"
           for side, label in (("raw", "raw floor, one transaction"), ("aon", "migrate, all_or_nothing(true)"))
           for key in ("total", "history_row", "fk_check", "fingerprint")},
        "fk_table": fk_table(data["fk"]) if data.get("fk") else "(workload 6 did not run)",
        "fsync_migrate": f"{data.get('fsync', {}).get(('delete', 'migrate'), float('nan')):.2f}",
        "fsync_raw": f"{data.get('fsync', {}).get(('delete', 'raw floor (BEGIN IMMEDIATE, statement, history row, COMMIT)'), float('nan')):.2f}",
        "fsync_diesel": f"{data.get('fsync', {}).get(('delete', 'diesel'), float('nan')):.2f}",
        **peer_fields(data, args),
        **{f"cgp_{side}_{key}": f"{data.get('callgrind_apply_per', {}).get(label, {}).get(key, 0):,}"
           for side, label in (("raw", "raw floor, one transaction per migration"),
                               ("migrate", "migrate, one transaction per migration"))
           for key in ("total", "history_row", "fk_check", "begin", "schema_read")},
        "cgp_ratio": (f"{data['callgrind_apply_per']['migrate, one transaction per migration']['total'] / data['callgrind_apply_per']['raw floor, one transaction per migration']['total']:.2f}x"
                      if data.get("callgrind_apply_per") else "n/a"),
        "cgp_schema_share": (f"{100 * data['callgrind_apply_per']['migrate, one transaction per migration']['schema_read'] / data['callgrind_apply_per']['migrate, one transaction per migration']['total']:.0f}%"
                             if data.get("callgrind_apply_per") else "n/a"),
        **pg_fields(data),
        **fanout_fields(data),
        **{f"v_{tool}": data.get("versions", {}).get(tool, "?") for tool in TOOLS},
        **{f"c_{tool}": data.get("crates", {}).get(tool, "?") for tool in TOOLS},
    }
    return text.format(**fields)


def peer_fields(data: dict, args) -> dict:
    """diesel's apply figures at the largest N against the raw per-migration floor and
    migrate, for the analysis."""
    apply_r = data["apply"]
    n_max = max(args.ns)
    raw_per = "raw floor (BEGIN IMMEDIATE, statement, history row, COMMIT)"
    fields = {}
    for journal in args.journals:
        def m(label):
            runs = apply_r.get((n_max, journal, "per", label))
            return med([r.ns for r in runs]) if runs else float("nan")

        suffix = "" if journal == "delete" else f"_{journal}"
        fields[f"diesel_apply{suffix}"] = ms(m("diesel") / 1e9)
        fields[f"diesel_per{suffix}"] = ratio(m("diesel"), m(raw_per))
        fields[f"diesel_vs_migrate{suffix}"] = ratio(m("diesel"), m("migrate"))
        fields[f"sqlx_per{suffix}"] = ratio(m("sqlx"), m(raw_per))
        fields[f"refinery_per{suffix}"] = ratio(m("refinery"), m(raw_per))
    return fields


# ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: N = 10 and 100, 2 repeats, no build cost")
    parser.add_argument("--reps", type=int, help="repeats of each workload (default 5; --quick: 2)")
    parser.add_argument("--no-build-cost", action="store_true", help="skip the clean builds of workload 5")
    parser.add_argument("--out", type=Path, help="where to write the report")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report again from the last run's saved results (bench/target/last-run.pickle; "
                             "with --only postgres, section 6 from bench/target/last-postgres-run.pickle)")
    parser.add_argument("--fk-only", action="store_true",
                        help="only workload 6 (one migration beside 1,000,000 untouched rows); "
                             "prints its table, writes nothing else")
    parser.add_argument("--binary", type=Path,
                        help="with --fk-only: the migrate-n10 binary to measure (e.g. one built "
                             "from an older commit); default the one built here")
    parser.add_argument("--only", choices=["check", "postgres", "fanout"],
                        help="check: only the start-up check (workload 2, its breakdown and "
                             "instruction counts), written into the start-up rows of the existing "
                             "report; postgres: only the PostgreSQL workloads (section 6), written "
                             "into that section of the existing report; fanout: only the fan-out "
                             "(section 7: many SQLite files and PostgreSQL schemas, 1 to 8 workers "
                             "against sequential loops; default 3 repeats), written into that section")
    parser.add_argument("--fanout-count", type=int, default=10_000,
                        help="with --only fanout: how many SQLite files (default 10,000)")
    parser.add_argument("--fanout-pg-count", type=int, default=1000,
                        help="with --only fanout: how many PostgreSQL schemas (default 1,000; 0: none)")
    parser.add_argument("--without", action="append", default=[], choices=["refinery", "sqlx", "diesel"],
                        help="with --only check: leave out this peer's row (not built, say)")
    args = parser.parse_args()
    if args.fk_only:
        if args.binary is None:
            manifest = BENCH / "tools" / "migrate" / "Cargo.toml"
            cargo(["build", "--release", "--bin", "migrate-n10", "--manifest-path", str(manifest)],
                  target_dir=TARGET)
        SCRATCH.mkdir(parents=True, exist_ok=True)
        data = bench_fk(args.reps or 5, args.binary)
        print(fk_table(data))
        return
    args.ns = [10, 100] if args.quick else [10, 100, 1000]
    args.journals = ["delete", "wal"]
    if args.only == "fanout":
        args.reps = args.reps or 3
    args.reps = args.reps or (2 if args.quick else 5)
    out = args.out or (TARGET / "performance-quick.md" if args.quick else ROOT / "docs" / "performance.md")
    saved = TARGET / ("last-quick-run.pickle" if args.quick else "last-run.pickle")
    if args.report_only and args.only == "postgres":
        with (TARGET / "last-postgres-run.pickle").open("rb") as f:
            write_postgres(args, pickle.load(f))
        return
    if args.report_only and args.only == "fanout":
        write_fanout(args, last_fanout())
        return
    if args.report_only:
        with saved.open("rb") as f:
            data, saved_args = pickle.load(f)
        saved_args.out = out
        report(saved_args, data, out)
        return
    if args.only == "check":
        only_check(args)
        return
    if args.only == "postgres":
        only_postgres(args)
        return
    if args.only == "fanout":
        only_fanout(args)
        return
    started = time.perf_counter()
    data: dict = {"date": datetime.date.today().isoformat()}

    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    log("building the tools (release)")
    data["crates"] = {}
    for tool in TOOLS:
        manifest = BENCH / "tools" / tool / "Cargo.toml"
        wall, _ = cargo(["build", "--release", "--manifest-path", str(manifest)], target_dir=TARGET)
        log(f"  {tool}: {wall:.0f} s")
    for tool, lock in ((t, BENCH / "tools" / t / "Cargo.lock") for t in TOOLS):
        text = lock.read_text()
        wanted = {
            "raw": ["rusqlite"],
            "migrate": ["rusqlite"],
            "rusqlite_migration": ["rusqlite_migration", "rusqlite"],
            "refinery": ["refinery", "rusqlite"],
            "sqlx": ["sqlx", "libsqlite3-sys", "tokio"],
            "diesel": ["diesel", "diesel_migrations", "libsqlite3-sys"],
        }[tool]
        found = []
        for name in wanted:
            match = re.search(rf'name = "{re.escape(name)}"\nversion = "([^"]+)"', text)
            if match:
                found.append(f"{name} {match.group(1)}")
        data["crates"][tool] = ", ".join(found)
    data["versions"] = {
        "raw": spawn([RAW, "version"]).values["sqlite"],
        "migrate": spawn([migrate_bin(10), "version"]).values["sqlite"],
        "rusqlite_migration": spawn([RUSQLITE_MIGRATION, "version"]).values["sqlite"],
        "refinery": spawn([REFINERY, "version"]).values["sqlite"],
        "sqlx": spawn([SQLX, "version"]).values["sqlite"],
        "diesel": spawn([DIESEL, "version"]).values["sqlite"],
    }
    macro_toml = (ROOT / "migrate-macros" / "Cargo.toml").read_text()
    deps_section = macro_toml.split("[dependencies]", 1)[1].split("\n[", 1)[0]
    macro_deps = [line.split("=")[0].split(".")[0].strip() for line in deps_section.splitlines() if "=" in line]
    data["macro_deps"] = ", ".join(macro_deps)
    data["macro_deps_ok"] = set(macro_deps) <= {"proc-macro2", "quote", "syn"}


    log("workload 1 and 4: apply")
    data["apply"] = bench_apply(args.ns, args.journals, args.reps)
    log("workload 2: start-up check")
    data["check"] = bench_check(args.ns, args.reps)
    log("workload 3: discovery")
    data["discovery"] = bench_discovery(args.reps)

    log("workload 6: one migration beside 1,000,000 untouched rows")
    data["fk"] = bench_fk(args.reps)
    if not args.quick:
        log("workload 7: PostgreSQL")
        data["postgres"] = bench_postgres(args.reps)

    n_max = max(args.ns)
    data["breakdown"] = startup_breakdown(data, n_max)
    data["fsync_n"] = 100
    data["fsync"] = fsync_counts(100)
    data["callgrind"] = startup_callgrind(data["check"][1], n_max)
    data["callgrind_small"] = startup_callgrind_small(data["check"][1], args.ns)
    data["startup_date"] = data["date"]
    data["callgrind_apply"] = callgrind([
        ("raw floor, one transaction", [RAW, "apply", fresh(SCRATCH / "cg" / "a.db"), n_max, "wal", "one"]),
        ("migrate, all_or_nothing(true)",
         [migrate_bin(n_max), "apply", fresh(SCRATCH / "cg" / "b.db"), n_max, "wal", "aon"]),
    ], APPLY_PATTERNS)
    data["callgrind_apply_per"] = callgrind_apply_per(n_max)
    data["callgrind_discovery"] = callgrind([("discovery", [migrate_bin(10000), "discover", 10000])]).get("discovery", {})

    if not args.quick and not args.no_build_cost:
        # The page without the build cost first: the clean builds take many minutes, and
        # a run stopped during them keeps everything else.
        data["elapsed"] = time.perf_counter() - started
        with saved.open("wb") as f:
            pickle.dump((data, args), f)
        report(args, data, out)
        log("workload 5: build cost (clean release builds, a few minutes)")
        data["build"] = bench_build()
        data["build_jobs"] = os.environ.get("CARGO_BUILD_JOBS")
    data["elapsed"] = time.perf_counter() - started
    with saved.open("wb") as f:
        pickle.dump((data, args), f)
    report(args, data, out)


if __name__ == "__main__":
    main()
