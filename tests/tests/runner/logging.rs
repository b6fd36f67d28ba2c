//! Each applied or reverted migration is logged through the `log` facade with its
//! duration; the library itself prints nothing.

use std::sync::Mutex;

use migrate_sqlite::{BoxError, Db, Migration, Migrator, Reversible, Sqlite, migration};

#[migration(version = 401, description = "Create events", set = "logging")]
struct CreateEvents;

impl Migration for CreateEvents {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    }
}

impl Reversible for CreateEvents {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE events")
    }
}

/// The records of `migrate_core`, with the thread that logged each: the other tests of
/// this binary run on threads of their own, and only the test's own records count.
struct Capture(Mutex<Vec<(std::thread::ThreadId, log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("migrate_core") {
            self.0.lock().unwrap().push((
                std::thread::current().id(),
                record.level(),
                record.args().to_string(),
            ));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn applied_and_reverted_migrations_are_logged_with_their_duration() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let mut db = Sqlite::open_in_memory().unwrap();
    let migrator = Migrator::discovered_set("logging").unwrap();
    migrator.to_latest(&mut db).unwrap();
    migrator.to_version(&mut db, 0).unwrap();

    let this_thread = std::thread::current().id();
    let records: Vec<(log::Level, String)> = LOGGER
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, ..)| *thread == this_thread)
        .map(|(_, level, message)| (*level, message.clone()))
        .collect();
    let info: Vec<&String> = records
        .iter()
        .filter(|(level, _)| *level == log::Level::Info)
        .map(|(_, message)| message)
        .collect();
    assert_eq!(info.len(), 2, "{records:?}");
    assert!(
        info[0]
            .starts_with("applied migration 401 \"Create events\" (tests/tests/runner/logging.rs:"),
        "{}",
        info[0]
    );
    assert!(info[1].starts_with("reverted migration 401"), "{}", info[1]);
    for message in info {
        let duration = message.rsplit(" in ").next().unwrap();
        assert!(
            ["ns", "µs", "ms", "s"]
                .iter()
                .any(|unit| duration.ends_with(unit)),
            "a duration ends the message: {message}"
        );
    }
}
