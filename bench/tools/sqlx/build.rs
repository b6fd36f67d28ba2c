//! Writes the migration folders `sqlx::migrate!` embeds (`migrations/n10`, `n100`,
//! `n1000`: `<version>_create_t_<version>.sql`), and tells Cargo to watch them as sqlx's
//! docs ask.
use std::path::Path;

fn main() {
    for n in [10, 100, 1000] {
        let dir = Path::new("migrations").join(format!("n{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 1..=n {
            let file = dir.join(format!("{i}_create_t_{i}.sql"));
            let sql = format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\n");
            if std::fs::read_to_string(&file).ok().as_deref() != Some(sql.as_str()) {
                std::fs::write(&file, sql).unwrap();
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
}
