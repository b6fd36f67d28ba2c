//! `--tag` and `--category` on `status` and `history`, and the tags, categories and
//! declared dependencies they show, run as a process: the `migrate_tagged` binary of this
//! package (five SQLite migrations, four with tags, a category or `after = [..]`), and the
//! chat bot's `migrate`, whose migrations have none.

use migrate_test_support as support;

use std::path::Path;
use std::process::Command;

use migrate_sqlite::rusqlite::Connection;
use support::Run;

/// The versions of the status table's rows.
fn versions(status: &Run) -> Vec<u64> {
    status
        .stdout
        .lines()
        .skip(1)
        .map(|line| {
            let version = line.split_whitespace().next().expect("a version");
            version.parse().unwrap_or_else(|_| panic!("{line:?}"))
        })
        .collect()
}

/// `binary ARGS` in this package's folder, plain output, no `DATABASE_URL`.
fn run(binary: &str, args: &[&str]) -> Run {
    let output = Command::new(binary)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run the migrate command");
    Run::from_output(&output)
}

/// `migrate_tagged --database DB ARGS`.
fn on(db: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--database", db.to_str().expect("a UTF-8 temporary path")];
    all.extend_from_slice(args);
    run(env!("CARGO_BIN_EXE_migrate_tagged"), &all)
}

/// A database in a temporary directory with migrations 1 to 3 applied (4 and 5 pending).
fn up_to_3() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tagged.db");
    on(&db, &["up", "--to", "3"]).ok();
    (dir, db)
}

#[test]
fn status_filters_by_every_tag_given_and_by_category() {
    let (_dir, db) = up_to_3();
    let all = on(&db, &["status"]).ok();
    assert_eq!(versions(&all), [1, 2, 3, 4, 5], "{all:?}");
    for (args, expected) in [
        (&["--tag", "slow"][..], &[3, 4][..]),
        (&["--tag", "billing"], &[2, 3]),
        // Repeated: the migrations with every tag given.
        (&["--tag", "billing", "--tag", "slow"], &[3]),
        (&["--category", "schema"], &[1, 2]),
        (&["--category", "data"], &[3]),
        // Both: the migrations with the tag and the category.
        (&["--tag", "billing", "--category", "schema"], &[2]),
    ] {
        let mut command = vec!["status"];
        command.extend_from_slice(args);
        let run = on(&db, &command).ok();
        assert_eq!(versions(&run), expected, "status {args:?}: {run:?}");
    }
}

#[test]
fn the_status_table_shows_category_and_tags_only_when_a_migration_has_them() {
    let (_dir, db) = up_to_3();
    let run = on(&db, &["status"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].ends_with("duration  category  tags"),
        "{:?}",
        lines[0]
    );
    let row = |version: &str| {
        *lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(version))
            .unwrap_or_else(|| panic!("no row {version}: {run:?}"))
    };
    let category_at = lines[0].find("category").unwrap();
    let tags_at = lines[0].find("tags").unwrap();
    // Columns line up under their headers, applied rows and pending ones alike.
    for (version, category, tags) in [
        ("1", "schema", ""),
        ("2", "schema", "billing"),
        ("3", "data", "billing, slow"),
        ("4", "", "slow"),
        ("5", "", ""),
    ] {
        let line = row(version);
        assert_eq!(
            line.get(category_at..tags_at).map(str::trim_end),
            Some(category),
            "{line:?}"
        );
        assert_eq!(
            line.get(tags_at..).unwrap_or("").trim_end(),
            tags,
            "{line:?}"
        );
    }

    // The chat bot's migrations have none: its table is the one it always was.
    let run = run_chat_bot(&["status"]).ok();
    let header = run.stdout.lines().next().unwrap_or_default();
    assert!(header.ends_with("  duration"), "{run:?}");
    assert!(
        !run.stdout.contains("category") && !run.stdout.contains("tags"),
        "{run:?}"
    );
}

#[test]
fn status_check_judges_only_the_migrations_the_filters_select() {
    let (_dir, db) = up_to_3();
    // 4 and 5 are pending: the whole set is not applied, the billing migrations are.
    on(&db, &["status", "--check"]).code(3);
    on(&db, &["status", "--check", "--tag", "billing"]).ok();
    on(&db, &["status", "--check", "--category", "schema"]).ok();
    let run = on(&db, &["status", "--check", "--tag", "slow"]).code(3);
    assert!(
        run.stderr.contains("(tag slow): 1 pending, 0 modified"),
        "{run:?}"
    );

    // A version in the history that the program does not contain has no tags: a filter
    // leaves it out, and with it out of what --check judges.
    on(&db, &["up"]).ok();
    Connection::open(&db)
        .unwrap()
        .execute_batch("UPDATE migrate_history SET version = 9 WHERE version = 5")
        .unwrap();
    let run = on(&db, &["status", "--check"]).code(3);
    assert!(run.stdout.contains("unknown"), "{run:?}");
    let run = on(&db, &["status", "--check", "--tag", "slow"]).ok();
    assert_eq!(versions(&run), [3, 4], "{run:?}");

    // A database that does not exist: the selected migrations are all pending, and no
    // file is created.
    let missing = db.with_file_name("missing.db");
    let run = on(&missing, &["status", "--check", "--tag", "slow"]).code(3);
    assert!(
        run.stderr
            .contains("all 2 migrations with tag slow are pending"),
        "{run:?}"
    );
    assert!(!missing.exists());
}

#[test]
fn an_unknown_tag_or_category_is_refused_naming_those_in_use_and_writes_nothing() {
    let (dir, db) = up_to_3();
    let run = on(&db, &["status", "--tag", "slw"]).code(2);
    assert!(
        run.stderr
            .contains("no migration has the tag slw; the tags in use: billing, slow"),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
    let run = on(&db, &["status", "--check", "--category", "Data"]).code(2);
    assert!(
        run.stderr
            .contains("no migration has the category Data; the categories in use: data, schema"),
        "{run:?}"
    );
    // Each known, but no migration has both: refused too, so --check cannot pass on none.
    let run = on(
        &db,
        &["status", "--check", "--tag", "slow", "--category", "schema"],
    )
    .code(2);
    assert!(
        run.stderr
            .contains("no migration has tag slow, category schema together"),
        "{run:?}"
    );

    // Neither the database nor the document is created.
    let missing = dir.path().join("missing.db");
    on(&missing, &["status", "--check", "--tag", "slw"]).code(2);
    let doc = dir.path().join("HISTORY.md");
    let doc_arg = doc.to_str().unwrap();
    let run = on(&missing, &["history", "--tag", "slw", "-o", doc_arg]).code(2);
    assert!(
        run.stderr.contains("the tags in use: billing, slow"),
        "{run:?}"
    );
    assert!(!missing.exists() && !doc.exists());

    // A program whose migrations have no tags says how to give them some.
    let run = run_chat_bot(&["status", "--tag", "slow"]).code(2);
    assert!(
        run.stderr.contains("no migration has tags yet")
            && run.stderr.contains("tags = [\"billing\", \"slow\"]"),
        "{run:?}"
    );
}

/// The chat bot's `migrate --database DB ARGS`, on an empty database file.
fn run_chat_bot(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    std::fs::write(&db, "").unwrap();
    let mut all = vec!["--database", db.to_str().unwrap()];
    all.extend_from_slice(args);
    run(env!("CARGO_BIN_EXE_migrate"), &all)
}

#[test]
fn history_markdown_shows_tags_category_and_dependencies() {
    let (_dir, db) = up_to_3();
    let doc = on(&db, &["history", "--format", "markdown"]).ok().stdout;
    // The line under each migration's heading, when it has any of them.
    let labels = |version: u64| -> Option<String> {
        let heading = doc
            .lines()
            .position(|l| l.starts_with(&format!("## {version} ")))
            .unwrap_or_else(|| panic!("no section {version}:\n{doc}"));
        let line = doc.lines().nth(heading + 2).unwrap_or_default();
        (!line.starts_with("Defined in")).then(|| line.to_owned())
    };
    assert_eq!(labels(1).as_deref(), Some("Category: schema"));
    assert_eq!(
        labels(2).as_deref(),
        Some("Tags: billing · Category: schema")
    );
    assert_eq!(
        labels(3).as_deref(),
        Some("Tags: billing, slow · Category: data · After: 2")
    );
    assert_eq!(labels(4).as_deref(), Some("Tags: slow · After: 1"));
    assert_eq!(labels(5), None, "{doc}");
    assert!(!doc.contains("Only the migrations"), "{doc}");

    // Filtered: the table and the sections of the selected migrations; the schema after
    // each is still the one every migration up to it leaves.
    let doc = on(&db, &["history", "--tag", "slow"]).ok().stdout;
    assert!(
        doc.contains("Only the migrations with tag slow.\n"),
        "{doc}"
    );
    let rows: Vec<&str> = doc
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| version"))
        .collect();
    assert_eq!(rows.len(), 2, "{doc}");
    assert!(
        rows[0].starts_with("| 3 | Backfill invoice totals |"),
        "{doc}"
    );
    assert!(rows[1].starts_with("| 4 | Index user names |"), "{doc}");
    assert!(!doc.contains("## 1 ") && !doc.contains("## 5 "), "{doc}");
    let section_4 = &doc[doc.find("## 4 ").unwrap()..];
    assert!(
        section_4.contains("CREATE TABLE invoices")
            && section_4.contains("CREATE INDEX users_name"),
        "{doc}"
    );
    let doc = on(&db, &["history", "--category", "data"]).ok().stdout;
    assert!(
        doc.contains("Only the migrations with category data.\n") && doc.contains("## 3 "),
        "{doc}"
    );
    assert!(!doc.contains("## 2 "), "{doc}");
}

#[test]
fn tags_never_change_what_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tagged.db");
    // No command that runs migrations takes a filter.
    for command in ["up", "down", "redo"] {
        let run = on(&db, &[command, "--tag", "slow"]).code(2);
        assert!(
            run.stderr.contains("unexpected argument '--tag'"),
            "{run:?}"
        );
    }
    assert!(!db.exists());
    // `up` applies every migration, with tags or without, in version order.
    let run = on(&db, &["up"]).ok();
    let applied: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("applied"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(applied, ["1", "2", "3", "4", "5"], "{run:?}");
    on(&db, &["status", "--check"]).ok();
}
