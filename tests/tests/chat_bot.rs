//! The chat bot example's migrations on a real SQLite file: up, down to each version,
//! and up again.

use migrate_test_support as support;

use migrate_sqlite::{Migrator, Sqlite, State};
use migrate_tests::chat_bot;
use support::applied_versions;

fn open(dir: &tempfile::TempDir) -> Sqlite {
    Sqlite::open(dir.path().join("chat_bot.db")).unwrap()
}

fn migrator() -> Migrator {
    chat_bot::link();
    Migrator::discovered().unwrap()
}

fn columns(db: &Sqlite, table: &str) -> Vec<String> {
    let mut statement = db
        .connection()
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn tables(db: &Sqlite) -> Vec<String> {
    let mut statement = db
        .connection()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn discovery_finds_exactly_the_three_migrations_of_the_plan() {
    let migrator = migrator();
    let versions: Vec<u64> = migrator.migrations().iter().map(|m| m.version()).collect();
    assert_eq!(versions, chat_bot::VERSIONS);
    let descriptions: Vec<&str> = migrator
        .migrations()
        .iter()
        .map(|m| m.description())
        .collect();
    assert_eq!(
        descriptions,
        [
            "Initial schema",
            "Add is_spammer to chat_users",
            "Add metadata to chat_users"
        ]
    );
    assert!(migrator.migrations().iter().all(|m| m.is_reversible()));
    // The folder's files are compiled through `#[path]`, so `file!()` is absolute.
    assert!(
        chat_bot::AddMetadata::get_migration()
            .file()
            .ends_with("tests/src/chat_bot/migrations/m003_add_metadata.rs")
    );
}

#[test]
fn every_file_of_the_migrations_folder_registers_a_migration() {
    chat_bot::link();
    // Not vacuous: the build script listed the folder's files.
    assert_eq!(
        chat_bot::migration_files().len(),
        chat_bot::VERSIONS.len(),
        "{:?}",
        chat_bot::migration_files()
    );
    assert_eq!(chat_bot::unregistered_files(), Vec::<&str>::new());
}

#[test]
fn up_builds_the_schema_and_a_second_run_finds_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = migrator();
    let mut db = open(&dir);
    let report = migrator.to_latest(&mut db).unwrap();
    let versions: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(
        tables(&db),
        ["chat_messages", "chat_users", "chats", "migrate_history"]
    );
    assert_eq!(
        columns(&db, "chat_users"),
        [
            "id",
            "username",
            "display_name",
            "created_at",
            "is_spammer",
            "metadata"
        ]
    );

    // A new process (a new connection) finds nothing to do.
    drop(db);
    let mut db = open(&dir);
    assert!(migrator.to_latest(&mut db).unwrap().is_empty());
    assert!(migrator.pending(&mut db).unwrap().is_empty());
}

#[test]
fn down_to_each_version_and_up_again_keeps_the_data_that_survives() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = migrator();
    let mut db = open(&dir);

    // Up to 2, add data, then 3: the data migration fills metadata from is_spammer.
    migrator.to_version(&mut db, 2).unwrap();
    db.connection()
        .execute_batch(
            "INSERT INTO chat_users (username, display_name, is_spammer) VALUES ('ann', 'Ann', 0), ('bob', 'Bob', 1)",
        )
        .unwrap();
    migrator.to_latest(&mut db).unwrap();
    let flagged: Vec<String> = db
        .connection()
        .prepare("SELECT metadata FROM chat_users ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(flagged, [r#"{"flagged":false}"#, r#"{"flagged":true}"#]);

    migrator.to_version(&mut db, 2).unwrap();
    assert_eq!(applied_versions(&migrator, &mut db), [1, 2]);
    assert_eq!(
        columns(&db, "chat_users"),
        ["id", "username", "display_name", "created_at", "is_spammer"]
    );

    migrator.to_version(&mut db, 1).unwrap();
    assert_eq!(applied_versions(&migrator, &mut db), [1]);
    assert_eq!(
        columns(&db, "chat_users"),
        ["id", "username", "display_name", "created_at"]
    );
    let users: i64 = db
        .connection()
        .query_row("SELECT count(*) FROM chat_users", [], |row| row.get(0))
        .unwrap();
    assert_eq!(users, 2, "reverting a column keeps the rows");

    migrator.to_version(&mut db, 0).unwrap();
    assert_eq!(applied_versions(&migrator, &mut db), Vec::<u64>::new());
    assert_eq!(tables(&db), ["migrate_history"]);

    let report = migrator.to_latest(&mut db).unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(applied_versions(&migrator, &mut db), [1, 2, 3]);
    assert_eq!(
        columns(&db, "chat_users"),
        [
            "id",
            "username",
            "display_name",
            "created_at",
            "is_spammer",
            "metadata"
        ]
    );
}

#[test]
fn status_reports_applied_and_pending_with_time_and_duration() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = migrator();
    let mut db = open(&dir);
    migrator.to_version(&mut db, 1).unwrap();
    let status = migrator.status(&mut db).unwrap();
    assert_eq!(status.len(), 3);
    match &status[0].state {
        State::Applied { applied_at, .. } => {
            assert_eq!(
                applied_at.len(),
                "2026-11-25T09:30:00.123Z".len(),
                "{applied_at}"
            );
            assert!(applied_at.ends_with('Z'));
        }
        other => panic!("expected applied, got {other:?}"),
    }
    assert_eq!(status[1].state, State::Pending);
    assert_eq!(status[2].state, State::Pending);
    assert!(
        status[2]
            .file
            .unwrap()
            .ends_with("tests/src/chat_bot/migrations/m003_add_metadata.rs")
    );
    let pending: Vec<u64> = migrator
        .pending(&mut db)
        .unwrap()
        .iter()
        .map(|m| m.version())
        .collect();
    assert_eq!(pending, [2, 3]);
}

#[test]
fn every_down_restores_the_schema_of_before_its_up() {
    let checked = migrate_sqlite::testing::check_migrations(&migrator());
    assert_eq!(checked.applied, [1, 2, 3]);
    assert_eq!(checked.reverted, [1, 2, 3]);
    assert!(checked.irreversible.is_empty());
}

/// The chat bot's migrations folder is linked and has files, so a set with no migration
/// is refused (a mistyped name, say), naming the set the program does have; only a
/// program whose linked folders are all empty (a new project) may discover none.
#[test]
fn a_set_without_migrations_is_refused_though_a_folder_is_linked() {
    chat_bot::link();
    let error = Migrator::discovered_set("chatbot").unwrap_err();
    assert!(
        matches!(&error, migrate_sqlite::Error::NoMigrations { set, sets } if set == "chatbot" && sets == &[""]),
        "{error:#?}"
    );
    assert!(
        error
            .to_string()
            .contains("the program does have migrations in the default set"),
        "{error}"
    );
}

use migrate_test_support::pg;

/// The same three migrations on PostgreSQL: each applies in a schema of its own, each
/// down restores the catalog as it was, and the data migration (through the postgres
/// driver there) fills `metadata` from `is_spammer`.
#[test]
fn the_same_migrations_run_on_postgresql() {
    let Some(mut schema) = pg::TestSchema::new("chat_bot") else {
        return;
    };
    let checked = migrate_postgres::testing::check_migrations(&migrator(), &pg::server());
    assert_eq!(checked.reverted, [1, 2, 3]);

    let mut db = migrate_postgres::Postgres::connect(&schema.url()).unwrap();
    migrator().to_version(&mut db, 2).unwrap();
    schema
        .client()
        .batch_execute(
            "INSERT INTO chat_users (id, username, display_name, is_spammer) \
             VALUES (1, 'ada', 'Ada', 0), (2, 'bot', 'Bot', 1)",
        )
        .unwrap();
    migrator().to_latest(&mut db).unwrap();
    let metadata: Vec<String> = schema
        .client()
        .query("SELECT metadata FROM chat_users ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        metadata,
        [r#"{"flagged" : false}"#, r#"{"flagged" : true}"#]
    );
    assert_eq!(schema.versions(), [1, 2, 3]);
}
