//! The migrations of `postgres::crash`, shared by the test module and its child processes
//! (`src/bin/postgres_child.rs`): six that create and fill a table slowly, and one that
//! sleeps in its transaction, saying in which session.

use std::sync::atomic::{AtomicI32, Ordering};

use migrate_postgres::{BoxError, Db, Migration, Migrator, PostgresExt, migration};

macro_rules! slow_tables {
    ($($ty:ident $version:tt),* $(,)?) => {
        $(
            #[migration(set = "crash", version = $version, description = "Create a table slowly", irreversible)]
            pub(crate) struct $ty;

            impl Migration for $ty {
                fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                    db.execute(concat!(
                        "CREATE TABLE c_", stringify!($version), " (id INT); ",
                        "INSERT INTO c_", stringify!($version), " SELECT generate_series(1, 1000); ",
                        "SELECT pg_sleep(0.04)"
                    ))
                }
            }
        )*

        pub(crate) fn slow() -> Migrator {
            Migrator::for_set("crash")
                .register_migrations([$($ty::get_migration()),*])
                .unwrap()
        }
    };
}

slow_tables!(C1 1, C2 2, C3 3, C4 4, C5 5, C6 6);

/// The session running migration 20, for the tests that end it.
pub(crate) static SLEEPER_PID: AtomicI32 = AtomicI32::new(0);

#[migration(
    set = "crash",
    version = 20,
    description = "Sleeps in its transaction",
    irreversible
)]
pub(crate) struct Sleeps;

impl Migration for Sleeps {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        let tx = db.postgres()?;
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[])?.get(0);
        SLEEPER_PID.store(pid, Ordering::SeqCst);
        println!("sleeping in {pid}");
        tx.batch_execute("CREATE TABLE slept (id INT); SELECT pg_sleep(30)")?;
        Ok(())
    }
}
