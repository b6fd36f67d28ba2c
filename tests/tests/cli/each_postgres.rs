//! `migrate up/status --each-schema` and `--each-from` on PostgreSQL, run as a process:
//! the `migrate_pg` binary of this package (two migrations: `notes`, then its `tags`)
//! over schemas this test creates and drops. Each schema gets its own tables and its own
//! history table; a failing schema is listed and leaves the others migrated. The tests
//! skip without a server (see `migrate_test_support::pg`).

use migrate_test_support as support;
use migrate_test_support::pg;

use std::process::Command;

use migrate_postgres::postgres::{Client, NoTls};
use support::Run;

/// `migrate_pg ARGS` in a temporary directory, without `DATABASE_URL`.
fn migrate(dir: &std::path::Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_migrate_pg"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .expect("run migrate_pg");
    Run::from_output(&output)
}

/// The test server as a `postgres://` URL, with `query` (`?...`) appended.
fn url(query: &str) -> String {
    pg::server_url(None, query)
}

/// `name` as an SQL identifier, quoted.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Schemas `PREFIX_a`, `PREFIX_b`, ... created for a test, dropped at its end.
struct Schemas {
    prefix: String,
    names: Vec<String>,
    admin: Client,
}

impl Schemas {
    /// `None` (the test returns early) when there is no server.
    fn create(test: &str, n: usize) -> Option<Schemas> {
        Schemas::named(&format!("each_{test}_{}", std::process::id()), n)
    }

    /// [`Schemas::create`] with the prefix as given (any characters).
    fn named(prefix: &str, n: usize) -> Option<Schemas> {
        if !pg::available() {
            return None;
        }
        let prefix = prefix.to_owned();
        let mut admin = Client::connect(&pg::server(), NoTls).expect("connect to the server");
        let names: Vec<String> = (0..n)
            .map(|i| format!("{prefix}_{}", char::from(b'a' + u8::try_from(i).unwrap())))
            .collect();
        for name in &names {
            let name = quoted(name);
            admin
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
                ))
                .expect("create a schema");
        }
        Some(Schemas {
            prefix,
            names,
            admin,
        })
    }

    /// The tables of `schema`, sorted.
    fn tables(&mut self, schema: &str) -> Vec<String> {
        self.admin
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 \
                 ORDER BY 1",
                &[&schema],
            )
            .expect("read the catalog")
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// The columns of `schema.notes`, in order.
    fn note_columns(&mut self, schema: &str) -> Vec<String> {
        self.admin
            .query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 \
                 AND table_name = 'notes' ORDER BY ordinal_position",
                &[&schema],
            )
            .expect("read the catalog")
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// The versions in `schema`'s own history table.
    fn versions(&mut self, schema: &str) -> Vec<i64> {
        self.admin
            .query(
                &format!(
                    "SELECT version FROM {}.migrate_history ORDER BY version",
                    quoted(schema)
                ),
                &[],
            )
            .expect("read the schema's history")
            .iter()
            .map(|row| row.get(0))
            .collect()
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = self
                .admin
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", quoted(name)));
        }
    }
}

/// `--each-schema PREFIX*` over five schemas, one with a `notes` table already: four get
/// their tables and a history table of their own; the fifth is listed as failed and left
/// as it was; `status --each-schema` counts them; after the conflict is removed, a rerun
/// finishes it.
#[test]
fn each_schema_migrates_every_schema_with_its_own_history() {
    let Some(mut schemas) = Schemas::create("schema", 5) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let conflict = schemas.names[2].clone();
    schemas
        .admin
        .batch_execute(&format!("CREATE TABLE {conflict}.notes (x int)"))
        .unwrap();
    let database = url("");
    let pattern = format!("{}_*", schemas.prefix);
    let each = |command: &str, extra: &[&str]| {
        let mut args = vec!["--database", &database, command, "--each-schema", &pattern];
        args.extend_from_slice(extra);
        migrate(dir.path(), &args)
    };

    let run = each("up", &["--jobs", "3"]).code(1);
    for name in schemas.names.clone() {
        if name == conflict {
            assert_eq!(schemas.tables(&name), ["notes"], "{run:?}");
            assert_eq!(schemas.note_columns(&name), ["x"], "{run:?}");
            continue;
        }
        assert_eq!(
            schemas.tables(&name),
            ["migrate_history", "notes"],
            "{name}: {run:?}"
        );
        assert_eq!(
            schemas.note_columns(&name),
            ["id", "body", "tags"],
            "{name}"
        );
        assert_eq!(schemas.versions(&name), [1, 2], "{name}");
        assert!(
            run.line_of(&name)
                .starts_with(&format!("{name}: applied 2 migrations (1 to 2)")),
            "{run:?}"
        );
    }
    assert!(
        run.line_of(&conflict)
            .starts_with(&format!("{conflict}: failed: migration 1 \"Create notes\"")),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "5 databases: 4 migrated, 0 already up to date, 1 failed; 8 migrations applied in "
        ),
        "{run:?}"
    );
    let listed = run
        .stdout
        .lines()
        .skip_while(|l| *l != "failed:")
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        listed.contains(&format!("  {conflict}: migration 1 \"Create notes\""))
            && listed.contains("relation \"notes\" already exists"),
        "{run:?}"
    );
    // Nothing landed in the database's default schema (no test uses it).
    let stray: i64 = schemas
        .admin
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
             AND table_name IN ('notes', 'migrate_history')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(stray, 0, "a table of the run in the schema public");

    let status = each("status", &[]).code(0);
    assert!(
        status
            .stdout
            .contains("5 databases: 4 up to date, 1 behind, 0 need attention, 0 could not be read"),
        "{status:?}"
    );
    assert!(
        status.stdout.contains("  version 2: 4 databases"),
        "{status:?}"
    );
    assert!(
        status.stdout.contains("  version 0: 1 database"),
        "{status:?}"
    );
    assert_eq!(
        status.line_of(&conflict),
        format!("{conflict}: behind: at version 0, 2 pending (1, 2)"),
    );
    each("status", &["--check"]).code(3);

    schemas
        .admin
        .batch_execute(&format!("DROP TABLE {conflict}.notes"))
        .unwrap();
    let run = each("up", &["--jobs", "3", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(doc["targets"], 5, "{doc}");
    assert_eq!(doc["migrated"], 1, "{doc}");
    assert_eq!(doc["up_to_date"], 4, "{doc}");
    assert_eq!(doc["failed"], 0, "{doc}");
    assert_eq!(schemas.versions(&conflict), [1, 2]);
    let status = each("status", &["--check", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(status.stdout.trim()).unwrap();
    assert_eq!(doc["versions"], serde_json::json!({"2": 5}), "{doc}");
}

/// `--each-schema` with a pattern that matches no schema: a usage error naming it.
#[test]
fn each_schema_matching_nothing_is_a_usage_error() {
    if !pg::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database = url("");
    let run = migrate(
        dir.path(),
        &[
            "--database",
            &database,
            "up",
            "--each-schema",
            "no_such_schema_*",
        ],
    )
    .code(2);
    assert!(
        run.stderr
            .contains("--each-schema \"no_such_schema_*\" matches no schema of"),
        "{run:?}"
    );
    let run = migrate(
        dir.path(),
        &[
            "--database",
            &database,
            "--schema",
            "x",
            "up",
            "--each-schema",
            "x*",
        ],
    )
    .code(2);
    assert!(run.stderr.contains("drop --schema"), "{run:?}");
}

/// `--each-from` a file with two database URLs (each with its own `search_path`) and one
/// of a server that is not there: the two are migrated, each keeping its history in its
/// schema; the third is listed, its password hidden.
#[test]
fn each_from_a_list_of_urls() {
    let Some(mut schemas) = Schemas::create("from", 2) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = schemas
        .names
        .iter()
        .map(|name| url(&format!("?options=-c%20search_path%3D{name}")))
        .collect();
    // A third line names a server that is not there, with a password.
    let unreachable = "postgres://someone:s3cret@127.0.0.1:1/db";
    std::fs::write(
        dir.path().join("tenants.txt"),
        format!("# the tenants\n{}\n\n{}\n{unreachable}\n", urls[0], urls[1]),
    )
    .unwrap();
    let run = migrate(
        dir.path(),
        &["up", "--each-from", "tenants.txt", "--jobs", "2"],
    )
    .code(1);
    for (name, url) in schemas.names.clone().iter().zip(&urls) {
        assert_eq!(schemas.versions(name), [1, 2], "{run:?}");
        assert_eq!(schemas.tables(name), ["migrate_history", "notes"]);
        assert!(
            run.line_of(url)
                .starts_with(&format!("{url}: applied 2 migrations")),
            "{run:?}"
        );
    }
    assert!(
        run.stdout
            .contains("3 databases: 2 migrated, 0 already up to date, 1 failed;"),
        "{run:?}"
    );
    let shown = "postgres://someone:***@127.0.0.1:1/db";
    assert!(
        run.line_of(shown)
            .contains("the PostgreSQL server cannot be reached"),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
        "{run:?}"
    );

    std::fs::write(
        dir.path().join("tenants.txt"),
        format!("{}\n{}\n", urls[0], urls[1]),
    )
    .unwrap();
    let run = migrate(dir.path(), &["up", "--each-from", "tenants.txt"]).ok();
    assert!(
        run.stdout
            .contains("2 databases: 0 migrated, 2 already up to date, 0 failed;"),
        "{run:?}"
    );
    let status = migrate(
        dir.path(),
        &["status", "--each-from", "tenants.txt", "--check"],
    )
    .ok();
    assert!(
        status
            .stdout
            .contains("2 databases: 2 up to date, 0 behind, 0 need attention, 0 could not be read"),
        "{status:?}"
    );
}

/// Schemas whose names need quoting (capitals, a space, a hyphen, `%` and `_` that the
/// pattern must take literally): each is migrated in itself.
#[test]
fn each_schema_with_names_that_need_quoting() {
    let prefix = format!("Each Odd-%_{}", std::process::id());
    let Some(mut schemas) = Schemas::named(&prefix, 2) else {
        return;
    };
    // Not matched: `_` and `%` in the pattern are no SQL wildcards.
    let Some(_other) = Schemas::named(&format!("Each Odd-%x{}", std::process::id()), 1) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = url("");
    let pattern = format!("{prefix}_?");
    let run = migrate(
        dir.path(),
        &["--database", &database, "up", "--each-schema", &pattern],
    )
    .ok();
    assert!(run.stdout.contains("2 databases: 2 migrated"), "{run:?}");
    for name in schemas.names.clone() {
        assert_eq!(
            schemas.tables(&name),
            ["migrate_history", "notes"],
            "{run:?}"
        );
        assert_eq!(schemas.versions(&name), [1, 2]);
    }
}

/// More schemas than one page of names (500): `status --each-schema` reads every one,
/// once, across the pages, and counts them all.
#[test]
fn each_schema_reads_every_page_of_names() {
    if !pg::available() {
        return;
    }
    struct Dropped(Client, String);
    impl Drop for Dropped {
        fn drop(&mut self) {
            let sql = format!(
                "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE \
                 nspname LIKE '{}\\_%' LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); \
                 END LOOP; END $$",
                self.1
            );
            let _ = self.0.batch_execute(&sql);
        }
    }
    let prefix = format!("each_pages_{}", std::process::id());
    let mut admin = Client::connect(&pg::server(), NoTls).expect("connect to the server");
    let create: String = (0..1010)
        .map(|i| format!("CREATE SCHEMA {prefix}_{i:04};"))
        .collect();
    admin.batch_execute(&create).expect("create the schemas");
    let _cleanup = Dropped(admin, prefix.clone());
    let dir = tempfile::tempdir().unwrap();
    let pattern = format!("{prefix}_*");
    let run = migrate(
        dir.path(),
        &[
            "--database",
            &url(""),
            "status",
            "--each-schema",
            &pattern,
            "--jobs",
            "8",
            "--format",
            "json",
        ],
    )
    .ok();
    let doc: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("JSON");
    assert_eq!(doc["targets"], 1010, "{run:?}");
    assert_eq!(doc["behind"], 1010, "{run:?}");
    let mut names: Vec<&str> = doc["behind_targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    names.dedup();
    assert_eq!(names.len(), 1010, "every schema once");
    assert_eq!(names[0], format!("{prefix}_0000"));
    assert_eq!(names[1009], format!("{prefix}_1009"));
}
