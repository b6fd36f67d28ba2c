//! The catalog of a schema, one line per object: what `testing::check_migrations`
//! compares before an `up` and after its `down`, and `migrate history` shows.

use migrate_core::Error;

use crate::database::Postgres;
use crate::transaction::PgTransaction;

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

/// The objects of `schema` as [`SCHEMA`] lists them, `history` left out.
pub(crate) fn schema_objects(
    tx: &mut PgTransaction,
    schema: &str,
    history: &str,
) -> Result<Vec<String>, postgres::Error> {
    let rows = tx.query(SCHEMA, &[&schema, &history])?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

impl Postgres {
    /// What the history's schema holds, one line per object, sorted, the history table
    /// left out: tables, views and sequences (`relation r chat_users`); columns with type,
    /// nullability and default; constraints; indexes; triggers; functions; types and enum
    /// labels. Two schemas with the same lines have the same structure: this is what
    /// [`testing::check_migrations`](crate::testing::check_migrations) compares before an
    /// `up` and after its `down`, and what `migrate history` shows after each migration.
    ///
    /// ```rust,no_run
    /// use migrate_postgres::{Migrator, Postgres};
    ///
    /// fn main() -> Result<(), migrate_postgres::Error> {
    ///     let mut db = Postgres::connect("postgres://app@localhost/app")?;
    ///     Migrator::discovered()?.to_latest(&mut db)?;
    ///     for line in db.schema_objects()? {
    ///         println!("{line}"); // e.g. `column chat_users.name text NOT NULL`
    ///     }
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the catalog cannot be read.
    pub fn schema_objects(&mut self) -> Result<Vec<String>, Error> {
        schema_objects(&mut self.tx, &self.schema, &self.table).map_err(|source| Error::Database {
            action: format!("read the catalog of the schema {}", self.schema),
            source: Box::new(source),
        })
    }
}
