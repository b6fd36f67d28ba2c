//! Writes the migration folders `sqlx::migrate!` embeds (`migrations/n10`, `n100`,
//! `n1000`: `<version>_create_t_<version>.sql`; `migrations/fanout`: the five migrations
//! of the fan-out benchmark, the SQL of `tools/migrate/src/bin/migrate-fanout.rs`), and
//! tells Cargo to watch them as sqlx's docs ask.
use std::path::Path;

/// The fan-out benchmark's migrations, as `migrate-fanout` has them.
const FANOUT: [(&str, &str); 5] = [
    (
        "1_create_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT)",
    ),
    (
        "2_index_users_email",
        "CREATE UNIQUE INDEX users_email ON users (email)",
    ),
    (
        "3_create_notes",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), body TEXT)",
    ),
    (
        "4_index_notes_user",
        "CREATE INDEX notes_user ON notes (user_id)",
    ),
    (
        "5_create_tags",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    ),
];

/// Writes `sql` to `file` unless it already holds it (a rewrite would rebuild).
fn write(file: &Path, sql: &str) {
    if std::fs::read_to_string(file).ok().as_deref() != Some(sql) {
        std::fs::write(file, sql).unwrap();
    }
}

fn main() {
    for n in [10, 100, 1000] {
        let dir = Path::new("migrations").join(format!("n{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 1..=n {
            let file = dir.join(format!("{i}_create_t_{i}.sql"));
            write(
                &file,
                &format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\n"),
            );
        }
    }
    let dir = Path::new("migrations").join("fanout");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, sql) in FANOUT {
        write(&dir.join(format!("{name}.sql")), &format!("{sql};\n"));
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
}
