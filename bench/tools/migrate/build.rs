//! Generates the migrations of each binary: `$OUT_DIR/<name>.rs` includes chunk files of at
//! most 100 migrations each, written as `table_migrations! { T1 = 1, .. }` (SQLite) or
//! `pg_table_migrations! { .. }` (PostgreSQL; the macros are in `src/lib.rs`). Small
//! chunks keep the build fast: `#[migration]` reads and hashes the file it is in for its
//! checksum, so a migration in a file of 10,000 would cost as much as 10,000 small ones.
use std::fmt::Write as _;
use std::path::Path;

const CHUNK: usize = 100;

fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let out = Path::new(&out);
    for (name, n, generator) in [
        ("n10", 10, "table_migrations"),
        ("n100", 100, "table_migrations"),
        ("n1000", 1000, "table_migrations"),
        ("n10000", 10_000, "table_migrations"),
        // The PostgreSQL binaries (`migrate-pg-n*`): the same tables, migrate-postgres's
        // attribute.
        ("pg-n10", 10, "pg_table_migrations"),
        ("pg-n100", 100, "pg_table_migrations"),
        ("pg-n1000", 1000, "pg_table_migrations"),
    ] {
        let dir = out.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut top = String::new();
        for (c, start) in (1..=n).step_by(CHUNK).enumerate() {
            let end = (start + CHUNK - 1).min(n);
            let body: String = (start..=end).fold(String::new(), |mut s, v| {
                let _ = writeln!(s, "    T{v} = {v},");
                s
            });
            let file = dir.join(format!("chunk{c:03}.rs"));
            std::fs::write(&file, format!("bench_migrate::{generator}! {{\n{body}}}\n")).unwrap();
            let _ = writeln!(
                top,
                "mod chunk{c:03} {{ include!({:?}); }}",
                file.display().to_string()
            );
        }
        std::fs::write(out.join(format!("{name}.rs")), top).unwrap();
    }
    println!("cargo:rerun-if-changed=build.rs");
}
