"""Workload 5, the build cost: a minimal binary with 3 migrations per tool, built clean,
then rebuilt after a fourth migration is added."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from ..proc import BENCH, ROOT, TARGET, cargo, fresh, log
from ..tools import TOOL_NAMES

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


def run() -> dict:
    """{tool: {clean, clean_crates, rebuild, rebuild_crates, size}}."""
    results = {}
    for tool in TOOL_NAMES:
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


