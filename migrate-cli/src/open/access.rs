//! What a command does with the database, which decides how it is opened.

/// What a command does with the database, which decides how it is opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Only reads (`status`, `history`): never creates the file; works with `mode=ro`.
    Read,
    /// Writes to a database that must exist (`down` and `down --dry-run`, `redo`,
    /// `accept-changes`, `clear-incomplete`).
    Write,
    /// `up` and `baseline`: write, and create the file unless the URL says `mode=rw`.
    WriteOrCreate,
    /// `up --dry-run`: as `Write`, but a file that does not exist is rehearsed on an
    /// empty database in memory, so nothing is created.
    Rehearse,
}
