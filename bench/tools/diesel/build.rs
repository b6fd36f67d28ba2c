//! Writes the migration folders `embed_migrations!` embeds (`migrations/n10`, `n100`,
//! `n1000`: one directory per migration, `<version>_create_t_<i>/up.sql` and `down.sql`,
//! as `diesel migration generate` lays them out). The version is zero-padded: diesel
//! orders versions as strings.
use std::path::Path;

fn write(file: &Path, text: &str) {
    if std::fs::read_to_string(file).ok().as_deref() != Some(text) {
        std::fs::write(file, text).unwrap();
    }
}

fn main() {
    for n in [10, 100, 1000] {
        for i in 1..=n {
            let dir = Path::new("migrations")
                .join(format!("n{n}"))
                .join(format!("{i:05}_create_t_{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            write(
                &dir.join("up.sql"),
                &format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\n"),
            );
            write(&dir.join("down.sql"), &format!("DROP TABLE t_{i};\n"));
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
}
