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

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{Migrator, Postgres, PostgresExt};

pub use migrate_core::testing::Checked;

/// The catalog of one schema, one line per object, the history table left out: tables,
/// views and sequences; columns with type, nullability and default; constraints;
/// indexes; triggers; functions; types and enum labels.
const SCHEMA: &str = "
SELECT 'relation ' || c.relkind::text || ' ' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relname <> $2
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> $2
    AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname <> $2
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname <> $2
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND NOT t.tgisinternal
UNION ALL
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
UNION ALL
SELECT 'type ' || t.typname || ' ' || t.typtype::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'r', 'm')
     OR (n.nspname = $1 AND t.typtype = 'c'
         AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'enum ' || t.typname || ' ' || e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1
ORDER BY 1";

/// Runs the check in a schema of its own, created in the database `url` names and
/// dropped at the end (also when the check fails): its migrations find it first on their
/// `search_path`, and the history table is kept there too.
///
/// # Panics
///
/// When `migrator` has no migrations, with the message of
/// [`Error::NoMigrations`](crate::Error::NoMigrations): a test that checks nothing must
/// not pass. When the server cannot be reached or the schema cannot be made. When a
/// migration fails to apply or revert, or a `down` leaves the schema different from
/// before its `up`; the message names the migration and shows the difference.
pub fn check_migrations(migrator: &Migrator, url: &str) -> Checked {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "migrate_check_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let config: postgres::Config = url.parse().unwrap_or_else(|e| panic!("{url:?}: {e}"));
    let mut admin = Postgres::connect_config(config.clone()).unwrap_or_else(|e| panic!("{e:?}"));
    admin
        .connection()
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .unwrap_or_else(|e| panic!("creating the schema {name} for the check: {e}"));
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
        let rows = db
            .postgres()
            .and_then(|tx| Ok(tx.query(SCHEMA, &[&name, &history])?))
            .unwrap_or_else(|e| panic!("reading the catalog of {name}: {e:?}"));
        rows.iter().map(|row| row.get(0)).collect()
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
