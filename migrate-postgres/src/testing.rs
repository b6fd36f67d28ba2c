//! A check for your own tests: every migration applies on a fresh schema, every `down`
//! restores the schema exactly as it was before its `up` (read from the catalog), and
//! everything applies again.
//!
//! ```rust,no_run
//! use migrate_postgres::{migration, BoxError, Db, Migration, Migrator, Reversible};
//!
//! #[migration(version = 1, description = "Create chat_users")]
//! pub struct CreateChatUsers;
//!
//! impl Migration for CreateChatUsers {
//!     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("CREATE TABLE chat_users (id BIGSERIAL PRIMARY KEY, name TEXT)")
//!     }
//! }
//!
//! impl Reversible for CreateChatUsers {
//!     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("DROP TABLE chat_users")
//!     }
//! }
//!
//! // In a #[test], with a server to run on:
//! # fn main() {
//! let migrator = Migrator::discovered().unwrap();
//! let checked = migrate_postgres::testing::check_migrations(&migrator, "postgres://postgres@localhost/test");
//! assert_eq!(checked.reverted, [1]);
//! # }
//! ```

use crate::{Migrator, Postgres, PostgresExt};

pub use migrate_core::testing::Checked;

/// Runs the check in a schema of its own, created in the database `url` names and
/// dropped at the end (also when the check fails): its migrations find it first on their
/// `search_path`, and the history table is kept there too. A check whose process was
/// killed leaves it behind, and the next check drops it.
///
/// # Panics
///
/// When `migrator` has no migrations, with the message of
/// [`Error::NoMigrations`](crate::Error::NoMigrations): a test that checks nothing must
/// not pass. When the server cannot be reached or the schema cannot be made. When a
/// migration fails to apply or revert, or a `down` leaves the schema different from
/// before its `up`; the message names the migration and shows the difference.
pub fn check_migrations(migrator: &Migrator, url: &str) -> Checked {
    let config: postgres::Config = url.parse().unwrap_or_else(|e| panic!("{url:?}: {e}"));
    let mut admin = Postgres::connect_config(config.clone()).unwrap_or_else(|e| panic!("{e:?}"));
    let name = crate::scratch::create_scratch_schema(
        &mut admin,
        "on which testing::check_migrations applies the migrations",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Declared before the connection that migrates, so dropped after it.
    let _scratch = Scratch {
        admin,
        name: name.clone(),
    };

    let mut config = config;
    config.options(&format!("-c search_path={name}"));
    let mut db = Postgres::connect_config(config)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .schema(&name);
    let history = db.history_table_name().to_owned();
    migrate_core::testing::check_migrations_on(migrator, &mut db, |db| {
        db.postgres()
            .and_then(|tx| Ok(crate::catalog::schema_objects(tx, &name, &history)?))
            .unwrap_or_else(|e| panic!("reading the catalog of {name}: {e:?}"))
    })
}

/// The check's schema, dropped when the check ends, however it ends.
struct Scratch {
    admin: Postgres,
    name: String,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(error) = self.admin.connection().batch_execute(&drop) {
            log::warn!("could not drop the check's schema {}: {error}", self.name);
        }
    }
}
