//! What the attribute reads of the file it is in ([`FileFacts`]): a checksum of what the
//! migration is, recorded in the history so a migration changed after it was applied is
//! caught, and the version a file name such as `m0003_add_metadata.rs` carries.
//!
//! The checksum is FNV-1a ([`migrate_spec::Fnv64`]) over a canonical form of the file's
//! tokens ([`canon`]), with the files it includes ([`include`](mod@include)).

mod canon;
mod include;

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};

use canon::Canon;

/// The migration's source, as far as the attribute can see it.
pub struct FileFacts {
    /// FNV-1a over the canonical tokens of the file (and the files it includes), as 16
    /// hex digits.
    pub checksum: String,
    /// The version in the file name, and the name, when it follows `m<digits>_<name>.rs`.
    pub file_version: Option<(u64, String)>,
}

/// The file a migration is written in: the file of its version literal, so that a
/// migration a `macro_rules!` of another file generates belongs to the file that invokes
/// the macro, or else the file of the attribute. `None` where the compiler names no file
/// on disk (doc tests, generated code).
///
/// Only callable while the attribute runs (it asks the compiler).
pub fn file_of(version: Option<Span>) -> Option<PathBuf> {
    version
        .and_then(|span| span.unwrap().local_file())
        .or_else(|| proc_macro::Span::call_site().local_file())
}

/// Reads the migration's file. Where there is none, the checksum covers `fallback`, the
/// attribute and the struct. A file that is named but cannot be read or tokenized, or an
/// included file that cannot be read, is an error naming it.
pub fn read(file: Option<&Path>, fallback: &TokenStream) -> syn::Result<FileFacts> {
    let checksum = match file {
        Some(path) => checksum_file(path),
        None => {
            let mut canon = Canon::new(None);
            canon.tokens(fallback.clone());
            canon.finish()
        }
    }
    .map_err(|message| syn::Error::new(Span::call_site(), message))?;
    Ok(FileFacts {
        checksum,
        file_version: file.and_then(file_version),
    })
}

/// The checksum of the migration file at `path` (and of the files it includes, relative to
/// its folder), or the error to report.
pub fn checksum_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "cannot read `{}`, the migration's file, to compute its checksum: {}; \
             make sure the file is readable while it is compiled",
            path.display(),
            io_reason(&error)
        )
    })?;
    checksum_text(&text, path)
}

/// The checksum of `text`, the contents of the file at `path`.
pub fn checksum_text(text: &str, path: &Path) -> Result<String, String> {
    let tokens: TokenStream = strip_preamble(text).parse().map_err(|error| {
        format!(
            "cannot read the tokens of `{}`, the migration's file, to compute its checksum: \
             {error}; fix the file so that it is valid Rust",
            path.display()
        )
    })?;
    let mut canon = Canon::new(Some((path, text)));
    canon.tokens(tokens);
    canon.finish()
}

/// What rustc skips before the first token: a byte-order mark and a `#!` line that does not
/// start an inner attribute.
fn strip_preamble(text: &str) -> &str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.strip_prefix("#!") {
        Some(rest) if !rest.trim_start().starts_with('[') => {
            rest.find('\n').map_or("", |end| &rest[end..])
        }
        _ => text,
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "there is no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => error.to_string(),
    }
}

/// `m0003_add_metadata.rs` and `m0003.rs` carry version 3, by the rule the build script
/// applies too ([`migrate_spec::file_name_version`]). Digits too many for a version carry
/// none here: the build script reports them.
fn file_version(path: &Path) -> Option<(u64, String)> {
    let name = path.file_name()?.to_str()?;
    let stem = path.file_stem()?.to_str()?;
    let version = migrate_spec::file_name_version(stem)?.ok()?;
    Some((version, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn checksum(text: &str) -> String {
        checksum_text(text, Path::new("m0001_test.rs")).unwrap()
    }

    #[test]
    fn formatting_and_comments_do_not_change_the_checksum() {
        let a = checksum("fn up() { db.execute(\"CREATE TABLE t (id)\"); done() }");
        let b = checksum(
            "/// Creates t.\n// a comment\nfn up()\n{\n    db.execute(\"CREATE TABLE t (id)\"); // x\n    done()\n}",
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            checksum("fn up() { db.execute(\"CREATE TABLE u (id)\"); done() }")
        );
        assert_ne!(checksum("a b"), checksum("ab"));
    }

    /// A condition changes what a migration does where it runs, so `when = ..` and
    /// `environments = [..]` are part of the checksum: adding, changing or removing either
    /// is drift, with the left-out keys around them or not.
    #[test]
    fn a_migrations_condition_and_environments_are_part_of_its_checksum() {
        const ATTRIBUTE: &str = "#[migration(version = 3, description = \"Add x\", irreversible)]";
        const WITHOUT: &str = "#[migration(version = 3, description = \"Add x\", irreversible)]\n\
                               pub struct AddX;\nimpl Migration for AddX { fn up() { x() } }";
        let with = |attribute: &str| checksum(&WITHOUT.replacen(ATTRIBUTE, attribute, 1));
        let variants = [
            "#[migration(version = 3, description = \"Add x\", irreversible)]",
            "#[migration(version = 3, description = \"Add x\", irreversible, when = has_x)]",
            "#[migration(version = 3, description = \"Add x\", irreversible, when = checks::has_x)]",
            "#[migration(version = 3, description = \"Add x\", irreversible, when = has_y)]",
            "#[migration(version = 3, description = \"Add x\", irreversible, environments = [\"dev\"])]",
            "#[migration(version = 3, description = \"Add x\", irreversible, environments = [\"test\"])]",
            "#[migration(version = 3, description = \"Add x\", irreversible, environments = [\"dev\", \"test\"])]",
            "#[migration(version = 3, description = \"Add x\", irreversible, environments = [\"dev\"], when = has_x)]",
        ];
        let sums: Vec<String> = variants.iter().map(|v| with(v)).collect();
        for (i, a) in sums.iter().enumerate() {
            for (j, b) in sums.iter().enumerate().skip(i + 1) {
                assert_ne!(
                    a, b,
                    "{} and {} have one checksum",
                    variants[i], variants[j]
                );
            }
        }
        // The left-out keys stay left out next to them.
        assert_eq!(
            with(
                "#[migration(version = 3, tags = [\"a\"], description = \"Add x\", irreversible, when = has_x, lock_timeout = \"1s\")]"
            ),
            sums[1]
        );
        assert_eq!(
            with(
                "#[migration(version = 3, description = \"Add x\", irreversible, environments = [\"dev\"], after = [2], category = \"data\")]"
            ),
            sums[4]
        );
    }

    /// What rustfmt may change, and what the canonical form leaves out for it.
    #[test]
    fn a_migrations_lock_timeout_tags_category_and_dependencies_are_not_part_of_its_checksum() {
        const WITHOUT: &str = "#[migration(version = 3, description = \"Add x\", irreversible)]\n\
                               pub struct AddX;\nimpl Migration for AddX { fn up() { x() } }";
        // Pinned: the checksum of a migration without the key is the one it had before
        // the key existed, so no applied migration reads as modified.
        assert_eq!(checksum(WITHOUT), "a0664a282aa9f64c");
        for with in [
            "#[migration(version = 3, description = \"Add x\", irreversible, lock_timeout = \"30s\")]",
            "#[migration(version = 3, lock_timeout = \"off\", description = \"Add x\", irreversible,)]",
            "#[migration(lock_timeout = \"5m\", version = 3, description = \"Add x\", irreversible)]",
            "#[migrate_postgres::migration(version = 3, description = \"Add x\", irreversible, lock_timeout = \"1ms\")]",
            "#[migration(version = 3, tags = [\"slow\", \"billing\"], description = \"Add x\", irreversible)]",
            "#[migration(category = \"data\", version = 3, description = \"Add x\", irreversible, after = [CreateX, 2],)]",
            "#[migration(version = 3, after = [], description = \"Add x\", lock_timeout = \"1s\", irreversible, tags = [\"a\"])]",
        ] {
            let text = WITHOUT.replacen(
                "#[migration(version = 3, description = \"Add x\", irreversible)]",
                with,
                1,
            );
            let expected = if with.contains("migrate_postgres::") {
                checksum(&WITHOUT.replacen("#[migration(", "#[migrate_postgres::migration(", 1))
            } else {
                checksum(WITHOUT)
            };
            assert_eq!(checksum(&text), expected, "{with}");
        }
        // The other keys count; so does lock_timeout anywhere but the attribute.
        let different = [
            WITHOUT.replacen("irreversible", "irreversible, transaction = false", 1),
            WITHOUT.replacen("x()", "x(lock_timeout = \"30s\")", 1),
            WITHOUT.replacen("#[migration(", "#[other(", 1),
            WITHOUT.replacen("x()", "x(tags = [\"a\"])", 1),
            // A value that merely names a left-out key is not that key.
            WITHOUT.replacen("irreversible", "irreversible, set = \"tags\"", 1),
        ];
        for text in different {
            assert_ne!(checksum(&text), checksum(WITHOUT), "{text}");
        }
        assert_ne!(
            checksum(&WITHOUT.replacen("#[migration(", "#[other(lock_timeout = \"1s\", ", 1)),
            checksum(&WITHOUT.replacen("#[migration(", "#[other(", 1)),
        );
    }

    #[test]
    fn the_canonical_form_leaves_out_what_rustfmt_changes() {
        let same = [
            // `use`, `extern crate` and `mod x;` items, sorted and merged by rustfmt.
            (
                "use b::{y, x}; use a; fn f() {}",
                "use a;\nuse b::{x, y};\nfn f() {}",
            ),
            ("pub(crate) use b; mod z; mod a; extern crate q; f()", "f()"),
            ("#[cfg(test)] use b; f()", "f()"),
            // Derives merged, trailing commas, `;` after `return`.
            (
                "#[derive(Debug)] #[derive(Clone)] struct S;",
                "#[derive(Debug, Clone)] struct S;",
            ),
            ("f(a, b,)", "f(a, b)"),
            (
                "fn f() { if x { return y } z }",
                "fn f() { if x { return y; } z }",
            ),
            // Braces around a match arm's or a closure's body, nested parentheses.
            (
                "match x { A => { a() }, B => b() }",
                "match x { A => a(), B => { b() } }",
            ),
            ("let f = |x| { x + 1 };", "let f = |x| x + 1;"),
            ("let n = ((1 + 2)) * 3;", "let n = (1 + 2) * 3;"),
        ];
        for (a, b) in same {
            assert_eq!(checksum(a), checksum(b), "{a:?} and {b:?} differ");
        }
        let different = [
            ("f(\"CREATE TABLE t\")", "f(\"CREATE TABLE u\")"),
            ("let n = (1 + 2) * 3;", "let n = 1 + 2 * 3;"),
            ("let t = ((a, b));", "let t = (a, b, c);"),
            // A statement moved into or out of a block.
            ("if c { a(); b(); } d();", "if c { a(); } b(); d();"),
            ("#[cfg(test)] struct S;", "struct S;"),
            ("#![allow(unused)] fn f() {}", "fn f() {}"),
            ("fn f() -> impl Sized + use<> {}", "fn f() -> impl Sized {}"),
        ];
        for (a, b) in different {
            assert_ne!(checksum(a), checksum(b), "{a:?} and {b:?} are the same");
        }
    }

    /// Migration files written badly on purpose: the real rustfmt in both style editions
    /// changes their tokens (not only their layout), and their checksums stay the same;
    /// a changed SQL string is still caught.
    #[test]
    fn rustfmt_in_both_style_editions_does_not_change_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in BADLY_FORMATTED {
            for style in ["2021", "2024"] {
                let folder = dir.path().join(format!("{style}-{name}"));
                std::fs::create_dir_all(&folder).unwrap();
                // The modules the files declare, so that rustfmt finds them.
                for module in ["aa.rs", "zz.rs"] {
                    std::fs::write(folder.join(module), "").unwrap();
                }
                let path = folder.join(name);
                std::fs::write(&path, text).unwrap();
                let before = checksum_file(&path).unwrap();

                let output = Command::new(rustfmt())
                    .args(["--edition", "2024", "--style-edition", style])
                    .arg(&path)
                    .output()
                    .unwrap_or_else(|e| {
                        panic!("cannot run rustfmt ({e}); it comes with the toolchain: `rustup component add rustfmt`")
                    });
                assert!(
                    output.status.success(),
                    "rustfmt --style-edition {style} failed on {name}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let formatted = std::fs::read_to_string(&path).unwrap();
                let raw = |text: &str| text.parse::<TokenStream>().unwrap().to_string();
                assert_ne!(
                    raw(text),
                    raw(&formatted),
                    "rustfmt --style-edition {style} changed no token of {name}: the test \
                     proves nothing"
                );
                assert_eq!(
                    before,
                    checksum_file(&path).unwrap(),
                    "rustfmt --style-edition {style} changed the checksum of {name}; \
                     formatted:\n{formatted}"
                );

                let changed = formatted.replace("chat_users", "chat_members");
                assert_ne!(changed, formatted);
                std::fs::write(&path, changed).unwrap();
                assert_ne!(
                    before,
                    checksum_file(&path).unwrap(),
                    "a changed SQL string left the checksum of {name} as it was"
                );
            }
        }
    }

    /// rustfmt from the toolchain that runs the tests (next to its cargo), else from PATH.
    fn rustfmt() -> PathBuf {
        std::env::var_os("CARGO")
            .map(|cargo| PathBuf::from(cargo).with_file_name("rustfmt"))
            .filter(|path| {
                path.with_extension(std::env::consts::EXE_EXTENSION)
                    .exists()
            })
            .unwrap_or_else(|| PathBuf::from("rustfmt"))
    }

    const BADLY_FORMATTED: &[(&str, &str)] = &[
        (
            "m0003_add_metadata.rs",
            r#"use migrate_core::{migration, Migration, BoxError, Db, Reversible};
use std::fmt::{Write, Display, Debug};
use zeta::b; use alpha::a; use x::{y10, y9, Y2};
mod zz; mod aa;
extern crate b2; extern crate a1;

#[derive(Debug)]
#[derive(Clone)]
#[migration(version = 3, description = "Add metadata to chat_users")]
pub struct AddMetadata;

impl Migration for AddMetadata {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        let kind = 2;
        let sql = match kind { 1 => "ALTER TABLE chat_users ADD COLUMN metadata TEXT NOT NULL DEFAULT ''", 2 => { "ALTER TABLE chat_users ADD COLUMN other TEXT" }, _ => unreachable!() };
        let n = ((1 + 2)) * 3;
        let f = |x: i32| { x + 1 };
        let v = vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
        let _ = (n, f(1), v);
        if kind == 2 { return db.execute(sql) }
        run_with_a_long_name(db, "CREATE TABLE chat_users_archive (id INTEGER)", kind, kind, kind)
    }
}

impl Reversible for AddMetadata {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users DROP COLUMN metadata")
    }
}

fn run_with_a_long_name(db: &mut dyn Db, sql: &str, a: i32, b: i32, c: i32) -> Result<(), BoxError> { let _ = (a, b, c); db.execute(sql) }
"#,
        ),
        (
            "m0004_data.rs",
            r#"use migrate_core::{migration, Migration, BoxError, Db};
#[migration(version = 4, description = "Copy chat_users")]
pub struct CopyUsers;
impl Migration for CopyUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        let statements = [Statement { table: "chat_users", column: "name", kind: Kind::Text }, Statement { table: "chat_users", column: "age", kind: Kind::Integer }];
        for s in statements { match s.kind { Kind::Text => db.execute(&format!("ALTER TABLE {} ADD COLUMN {} TEXT", s.table, s.column))?, Kind::Integer => { db.execute(&format!("ALTER TABLE {} ADD COLUMN {} INTEGER", s.table, s.column))? } } }
        Ok(())
    }
}
struct Statement { table: &'static str, column: &'static str, kind: Kind }
enum Kind { Text, Integer }
"#,
        ),
    ];

    #[test]
    fn included_files_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sql")).unwrap();
        let sql = dir.path().join("sql/create.sql");
        std::fs::write(&sql, "CREATE TABLE t (id)").unwrap();
        let path = dir.path().join("m0001_create.rs");
        let text = "fn up() { db.execute(include_str!(\"sql/create.sql\")) }\n\
                    const B: &[u8] = include_bytes!(r\"sql/create.sql\");";
        std::fs::write(&path, text).unwrap();
        let before = checksum_file(&path).unwrap();
        std::fs::write(&sql, "CREATE TABLE t (id, name)").unwrap();
        assert_ne!(before, checksum_file(&path).unwrap());

        std::fs::remove_file(&sql).unwrap();
        let error = checksum_file(&path).unwrap_err();
        assert_eq!(
            error,
            "cannot read `sql/create.sql`, which `m0001_create.rs` includes on line 1, to \
             compute the migration's checksum: there is no such file; the path is relative to \
             the folder of the including file"
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_or_tokenized_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("m0001_gone.rs");
        let error = checksum_file(&missing).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "cannot read `{}`, the migration's file",
                missing.display()
            )),
            "{error}"
        );
        assert!(error.contains("there is no such file"), "{error}");

        let error = checksum_text("fn f() { (", Path::new("src/m0001_broken.rs")).unwrap_err();
        assert!(
            error.starts_with("cannot read the tokens of `src/m0001_broken.rs`"),
            "{error}"
        );
        assert!(
            error.ends_with("fix the file so that it is valid Rust"),
            "{error}"
        );

        let not_utf8 = dir.path().join("m0002_bytes.rs");
        std::fs::write(&not_utf8, [0xff, 0xfe, 0x00]).unwrap();
        assert!(checksum_file(&not_utf8).is_err());
    }

    #[test]
    fn a_byte_order_mark_and_a_shebang_line_are_skipped() {
        assert_eq!(checksum("\u{feff}fn f() {}"), checksum("fn f() {}"));
        assert_eq!(
            checksum("#!/usr/bin/env x\nfn f() {}"),
            checksum("fn f() {}")
        );
        assert_ne!(checksum("#![allow(x)]\nfn f() {}"), checksum("fn f() {}"));
    }

    #[test]
    fn file_names_carry_versions() {
        assert_eq!(
            file_version(Path::new("src/migrations/m0003_add_metadata.rs")),
            Some((3, "m0003_add_metadata.rs".to_owned()))
        );
        assert_eq!(file_version(Path::new("m3_x.rs")).map(|v| v.0), Some(3));
        // What `migrate new` names a migration whose description has no ASCII word.
        assert_eq!(
            file_version(Path::new("m0003.rs")),
            Some((3, "m0003.rs".to_owned()))
        );
        assert_eq!(file_version(Path::new("migration.rs")), None);
        assert_eq!(file_version(Path::new("m_x.rs")), None);
        assert_eq!(file_version(Path::new("m12x.rs")), None);
    }
}
