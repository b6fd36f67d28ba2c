//! The transaction a migration sees: [`Db`] for SQL text, [`SqliteExt`] for the
//! `rusqlite::Connection` itself.

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use migrate_core::{BoxError, Db};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// The connection, plus a guard that stops migration code from ending the transaction
/// the manager opened for it (`COMMIT`, `ROLLBACK`, `BEGIN`), which would commit part of
/// a migration without its history row. The same authorizer notes what the foreign-key
/// check needs to know: whether a statement set a pragma that turns SQLite's own checks
/// off, and which tables statements wrote (see `foreign_keys`).
pub(crate) struct Conn {
    pub inner: rusqlite::Connection,
    guarding: Arc<AtomicBool>,
    denied: Arc<AtomicBool>,
    keys: Arc<Mutex<KeyWork>>,
}

/// Since [`Conn::take_key_work`]: the tables written, whether `foreign_keys`,
/// `defer_foreign_keys` or `writable_schema` was set, and whether a statement may have
/// changed `sqlite_schema` other than by adding entries.
#[derive(Default)]
pub(crate) struct KeyWork {
    pub pragma: bool,
    pub written: BTreeSet<String>,
    /// A statement not known to leave every existing entry of `sqlite_schema` as it was:
    /// anything but reads, writes to ordinary tables, `CREATE TABLE`, `CREATE INDEX` and
    /// the introspection pragmas (see [`touches_schema`]). Then the check reads the whole
    /// schema again.
    pub reshaped: bool,
    /// The columns `CREATE TABLE` has yet to fill in, after the authorizer saw one: an
    /// `UPDATE` of `sqlite_schema` is its own only in this order, once per table created.
    create_update: &'static [&'static str],
}

/// Pragmas that read the schema or a header field and change nothing in
/// `sqlite_schema`, whatever their argument (`table_info(x)`, `user_version = 3`).
const QUIET_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "data_version",
    "schema_version",
    "user_version",
    "application_id",
    "foreign_keys",
    "defer_foreign_keys",
    "page_count",
    "page_size",
    "freelist_count",
    "compile_options",
    "database_list",
    "function_list",
    "collation_list",
    "pragma_list",
    "module_list",
    "busy_timeout",
    "cache_size",
];

/// The columns of `sqlite_schema` that `CREATE TABLE` fills in, in the order the
/// authorizer reports them, by an `UPDATE` of the entry it has just inserted.
const CREATE_TABLE_UPDATE: &[&str] = &["type", "name", "tbl_name", "rootpage", "sql"];

/// Whether `name` is the schema table (SQLite's names for it).
fn schema_table(name: &str) -> bool {
    [
        "sqlite_master",
        "sqlite_schema",
        "sqlite_temp_master",
        "sqlite_temp_schema",
    ]
    .iter()
    .any(|s| s.eq_ignore_ascii_case(name))
}

/// Whether [`KeyWork::see_schema`] needs to see the action: all but the ones that never
/// change an entry of `sqlite_schema` (so the common ones take no lock).
fn touches_schema(action: &AuthAction<'_>) -> bool {
    match action {
        AuthAction::Select
        | AuthAction::Read { .. }
        | AuthAction::Function { .. }
        | AuthAction::Recursive
        | AuthAction::Savepoint { .. }
        | AuthAction::Transaction { .. }
        | AuthAction::CreateIndex { .. }
        // `CREATE TABLE` and `CREATE INDEX` insert their entry: an addition.
        | AuthAction::Insert { .. } => false,
        AuthAction::Update { table_name, .. } | AuthAction::Delete { table_name } => {
            schema_table(table_name)
        }
        AuthAction::Pragma { pragma_name, .. } => !QUIET_PRAGMAS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(pragma_name)),
        _ => true,
    }
}

impl KeyWork {
    /// Notes an action [`touches_schema`] picked: `CREATE TABLE`'s own update of the entry
    /// it added is an addition; any other change of `sqlite_schema` (or a statement kind
    /// nobody thought of) means the schema must be read whole again.
    fn see_schema(&mut self, action: &AuthAction<'_>) {
        match action {
            AuthAction::CreateTable { .. } => self.create_update = CREATE_TABLE_UPDATE,
            AuthAction::Update { column_name, .. }
                if self
                    .create_update
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case(column_name)) =>
            {
                self.create_update = &self.create_update[1..];
            }
            _ => self.reshaped = true,
        }
    }
}

impl Conn {
    pub fn new(mut inner: rusqlite::Connection) -> rusqlite::Result<Self> {
        let guarding = Arc::new(AtomicBool::new(false));
        let denied = Arc::new(AtomicBool::new(false));
        let keys = Arc::new(Mutex::new(KeyWork::default()));
        let (g, d, k) = (
            Arc::clone(&guarding),
            Arc::clone(&denied),
            Arc::clone(&keys),
        );
        inner.authorizer(Some(move |context: AuthContext<'_>| {
            if touches_schema(&context.action) {
                k.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .see_schema(&context.action);
            }
            let written = match context.action {
                AuthAction::Transaction { .. } if g.load(Ordering::Relaxed) => {
                    d.store(true, Ordering::Relaxed);
                    return Authorization::Deny;
                }
                AuthAction::Pragma {
                    pragma_name,
                    pragma_value: Some(_),
                } if ["foreign_keys", "defer_foreign_keys", "writable_schema"]
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(pragma_name)) =>
                {
                    k.lock().unwrap_or_else(PoisonError::into_inner).pragma = true;
                    return Authorization::Allow;
                }
                AuthAction::Insert { table_name }
                | AuthAction::Update { table_name, .. }
                | AuthAction::Delete { table_name }
                | AuthAction::DropTable { table_name } => table_name,
                _ => return Authorization::Allow,
            };
            k.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .written
                .insert(written.to_ascii_lowercase());
            Authorization::Allow
        }))?;
        Ok(Conn {
            inner,
            guarding,
            denied,
            keys,
        })
    }

    /// What statements did that SQLite's foreign-key checks may have missed, since the
    /// last call.
    pub fn take_key_work(&self) -> KeyWork {
        std::mem::take(&mut *self.keys.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Turns the guard on while migration code runs, off for the manager's own
    /// `BEGIN`/`COMMIT`/`ROLLBACK`.
    pub fn guard(&self, on: bool) {
        self.guarding.store(on, Ordering::Relaxed);
        self.denied.store(false, Ordering::Relaxed);
    }

    /// Whether migration code tried to end the transaction since the guard went on.
    pub fn transaction_statement_denied(&self) -> bool {
        self.denied.load(Ordering::Relaxed)
    }
}

pub(crate) const TRANSACTION_DENIED: &str = "a migration runs inside the transaction that also \
    records it, so its SQL cannot BEGIN, COMMIT or ROLLBACK; remove those statements (use \
    SAVEPOINT for a nested transaction)";

impl Db for Conn {
    fn execute(&mut self, sql: &str) -> Result<(), BoxError> {
        self.inner.execute_batch(sql).map_err(|error| {
            if self.transaction_statement_denied() {
                BoxError::from(TRANSACTION_DENIED)
            } else {
                BoxError::from(error)
            }
        })
    }

    fn native(&mut self) -> &mut dyn Any {
        &mut self.inner
    }
}

/// The `rusqlite::Connection` of the migration's transaction, for data migrations.
///
/// ```rust,standalone_crate
/// use migrate_sqlite::{migration, BoxError, Db, Migration, SqliteExt};
///
/// #[migration(version = 7, description = "Lower-case every name", irreversible)]
/// pub struct LowerCaseNames;
///
/// impl Migration for LowerCaseNames {
///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         let conn = db.sqlite()?;
///         let names: Vec<(i64, String)> = conn
///             .prepare("SELECT id, name FROM chat_users")?
///             .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
///             .collect::<Result<_, _>>()?;
///         for (id, name) in names {
///             conn.execute(
///                 "UPDATE chat_users SET name = ?1 WHERE id = ?2",
///                 (name.to_lowercase(), id),
///             )?;
///         }
///         Ok(())
///     }
/// }
/// # fn main() {}
/// ```
///
/// Sealed: implemented for `dyn Db` only, so that methods can be added to it without
/// breaking anyone. A type of your own cannot implement it:
///
/// ```rust,compile_fail,E0277
/// use migrate_sqlite::{BoxError, SqliteExt};
///
/// struct Mine;
///
/// impl SqliteExt for Mine {
///     fn sqlite(&mut self) -> Result<&mut migrate_sqlite::rusqlite::Connection, BoxError> {
///         Err("mine".into())
///     }
/// }
/// ```
pub trait SqliteExt: sealed::Sealed {
    /// The connection, inside the transaction the manager opened for this migration.
    ///
    /// # Errors
    ///
    /// When the migration runs on a backend other than SQLite.
    fn sqlite(&mut self) -> Result<&mut rusqlite::Connection, BoxError>;
}

mod sealed {
    /// Keeps [`SqliteExt`](super::SqliteExt) implemented for `dyn Db` only.
    pub trait Sealed {}

    impl Sealed for dyn migrate_core::Db + '_ {}
}

impl SqliteExt for dyn Db + '_ {
    fn sqlite(&mut self) -> Result<&mut rusqlite::Connection, BoxError> {
        self.native()
            .downcast_mut::<rusqlite::Connection>()
            .ok_or_else(|| "this migration needs SQLite, but runs on another backend".into())
    }
}
