//! What a migration is: the [`Migration`] and [`Reversible`] traits, and the [`Db`]
//! handle their methods receive.

use core::any::Any;

/// The error a migration returns: any error type converts into it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The forward half of a migration: what `up` does to the database.
///
/// Put `#[migration(version = N, description = "...")]` on a unit struct and implement
/// this trait for it; the attribute registers the migration, nothing else is needed.
///
/// ```rust,standalone_crate
/// use migrate_core::{migration, BoxError, Db, Migration};
///
/// #[migration(version = 1, description = "Create chat_users", irreversible)]
/// pub struct CreateChatUsers;
///
/// impl Migration for CreateChatUsers {
///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
///     }
/// }
/// # fn main() {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is marked #[migration] but does not implement `Migration`",
    label = "this struct needs `impl Migration for {Self}`",
    note = "add `impl Migration for {Self} {{ fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {{ .. }} }}`"
)]
pub trait Migration: Send + Sync + 'static {
    /// Applies the migration. It runs inside the transaction that also records it in
    /// the history, so an error (or a panic) leaves the database as it was; except with
    /// `transaction = false` in its attribute, where it runs with no transaction open,
    /// between the commit of its incomplete mark and the transaction of its record, and
    /// an error leaves what it did so far, the mark telling every later run to refuse
    /// ([`Error::Incomplete`](crate::Error::Incomplete)) until someone has looked.
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError>;
}

/// The backward half of a migration: how `down` undoes what [`Migration::up`] did.
///
/// Every `#[migration]` implements it unless its attribute says `irreversible`; the
/// compiler checks it, so a rollback never meets a migration it cannot undo by surprise.
///
/// ```rust,standalone_crate
/// use migrate_core::{migration, BoxError, Db, Migration, Reversible};
///
/// #[migration(version = 2, description = "Add is_spammer to chat_users")]
/// pub struct AddIsSpammer;
///
/// impl Migration for AddIsSpammer {
///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
///     }
/// }
///
/// impl Reversible for AddIsSpammer {
///     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
///     }
/// }
/// # fn main() {}
/// ```
#[diagnostic::on_unimplemented(
    message = "migration `{Self}` has no `down`: implement `Reversible` for it, or declare it irreversible",
    label = "this migration needs `impl Reversible for {Self}`",
    note = "add `impl Reversible for {Self} {{ fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {{ .. }} }}`, or write `irreversible` in its #[migration(..)] if it cannot be undone"
)]
pub trait Reversible: Migration {
    /// Reverts the migration, inside the transaction that also removes its history row
    /// (with `transaction = false`: with no transaction open, as [`Migration::up`]).
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError>;
}

/// The database as a migration sees it: SQL text in, errors out, and the backend's own
/// connection for everything else.
///
/// Each backend implements it for the transaction it runs a migration in. SQLite users
/// reach the `rusqlite::Connection` through `migrate_sqlite::SqliteExt::sqlite`.
pub trait Db {
    /// Runs SQL text: one statement or several separated by `;`.
    fn execute(&mut self, sql: &str) -> Result<(), BoxError>;

    /// The backend's native connection, for code that needs more than SQL text.
    /// Backends offer a typed accessor on top of it; prefer that.
    fn native(&mut self) -> &mut dyn Any;
}
