//! The database a command works on, opened by its URL's scheme into one type, so that the
//! commands run on `&mut dyn Backend` whatever the backend; and what else differs by
//! backend: the scratch database of `history`, the schemas of `--each-schema`, and the
//! diagnosis of errors of the database itself. Each backend's code is in its own module,
//! built with its feature; this one only dispatches.

pub(crate) mod access;
pub(crate) mod scratch;

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use std::error::Error as StdError;

use clap::ArgMatches;
use migrate_core::{Backend, Error};

use crate::failure::Failure;
use crate::open::access::Access;
use crate::open::scratch::Scratch;
use crate::url;

/// An open database of one of the built-in backends.
pub(crate) struct Database(Box<dyn Backend>);

impl Database {
    /// What the manager works on.
    pub(crate) fn backend(&mut self) -> &mut dyn Backend {
        &mut *self.0
    }
}

/// `--database` or `DATABASE_URL`, parsed; `None` when neither is given. `--schema`
/// with a SQLite database is a usage error.
pub(crate) fn database(matches: &ArgMatches) -> Result<Option<url::Url>, Failure> {
    let parsed = matches
        .get_one::<String>("database")
        .map(|url| url::parse(url).map_err(Failure::Usage))
        .transpose()?;
    if let (Some(url::Url::Sqlite(_)), Some(schema)) =
        (&parsed, matches.get_one::<String>("schema"))
    {
        return Err(Failure::Usage(format!(
            "--schema {schema} names a PostgreSQL schema, and the database is a SQLite one, \
             which has no schemas: drop --schema (a SQLite database keeps its history in \
             its own file; --history-table names the table)"
        )));
    }
    if let (Some(url::Url::Sqlite(_)), Some(lock)) = (&parsed, matches.get_one::<String>("lock")) {
        return Err(Failure::Usage(format!(
            "--lock {lock} chooses how PostgreSQL runs are kept apart, and the database is a \
             SQLite one, which locks its file itself: drop --lock"
        )));
    }
    Ok(parsed)
}

/// The usage error of a command that needs a database and was given none.
pub(crate) fn no_database() -> Failure {
    let example = match (url::BUILT_IN.sqlite, url::BUILT_IN.postgres) {
        (true, true) => "DATABASE_URL=sqlite://app.db or DATABASE_URL=postgres://user@host/db",
        (true, false) => "DATABASE_URL=sqlite://app.db",
        _ => "DATABASE_URL=postgres://user@host/db",
    };
    Failure::Usage(format!(
        "no database given: pass --database URL or set DATABASE_URL (e.g. {example})"
    ))
}

/// Opens the database for `command`, as `access` allows: a command that cannot create
/// the database does not leave an empty file behind, and `mode=ro` opens read-only.
pub(crate) fn open(
    matches: &ArgMatches,
    command: &str,
    access: Access,
) -> Result<Database, Failure> {
    let database = database(matches)?.ok_or_else(no_database)?;
    open_database(matches, &database, command, access)
}

/// Opens `database` for `command`, as [`open`] does.
pub(crate) fn open_database(
    matches: &ArgMatches,
    database: &url::Url,
    command: &str,
    access: Access,
) -> Result<Database, Failure> {
    match database {
        #[cfg(feature = "sqlite")]
        url::Url::Sqlite(file) => {
            sqlite::open(matches, file, command, access).map(|db| Database(Box::new(db)))
        }
        #[cfg(feature = "postgres")]
        url::Url::Postgres(url) => postgres::open(matches, url).map(|db| Database(Box::new(db))),
        // `url::parse` refuses a URL of a backend this build does not have.
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (matches, access);
            Err(Failure::Usage(format!(
                "this build of the `migrate` command has no backend for `{command}`'s \
                 database: enable the migrate-cli feature of its kind (`sqlite`, `postgres`)"
            )))
        }
    }
}

/// One schema of the PostgreSQL database at `url`, for `--each-schema`: its history and
/// its migrations' unqualified names in that schema.
pub(crate) fn open_schema(
    matches: &ArgMatches,
    url: &url::Url,
    schema: &str,
) -> Result<Database, Error> {
    match url {
        #[cfg(feature = "postgres")]
        url::Url::Postgres(url) => {
            postgres::open_schema(matches, url, schema).map(|db| Database(Box::new(db)))
        }
        _ => {
            let _ = (matches, schema);
            Err(Error::database(
                "open the database",
                "this build has no PostgreSQL backend".into(),
            ))
        }
    }
}

/// The names of the schemas of a fan-out, in order; one that could not be listed is the
/// error's message.
pub(crate) type SchemaNames = Box<dyn Iterator<Item = Result<String, String>> + Send>;

/// The schemas of the PostgreSQL `database` whose names match `pattern` (`*` any
/// characters, `?` one), PostgreSQL's own never: how many, then their names, listed as
/// they are taken.
pub(crate) fn schemas(database: &url::Url, pattern: &str) -> Result<(usize, SchemaNames), Failure> {
    match database {
        #[cfg(feature = "postgres")]
        url::Url::Postgres(url) => {
            let (total, names) = postgres::schemas(url, pattern)?;
            Ok((total, Box::new(names)))
        }
        _ => {
            let _ = pattern;
            Err(Failure::Usage(
                "--each-schema selects PostgreSQL schemas, and this build of the `migrate` \
                 command has no PostgreSQL backend: enable the migrate-cli feature `postgres`"
                    .to_owned(),
            ))
        }
    }
}

/// The scratch database `history` builds the schema after each migration on, of the
/// kind of `database`: for PostgreSQL a schema of its own on that server, else an
/// in-memory SQLite database; `Ok(Err(why_not))` when this build has none to offer (no
/// SQLite, and no PostgreSQL database given).
pub(crate) fn scratch(
    database: Option<&url::Url>,
) -> Result<Result<Box<dyn Scratch>, &'static str>, Error> {
    match database {
        #[cfg(feature = "postgres")]
        Some(url::Url::Postgres(url)) => Ok(Ok(Box::new(postgres::scratch(url)?))),
        #[cfg(feature = "sqlite")]
        _ => Ok(Ok(Box::new(sqlite::scratch()?))),
        #[cfg(not(feature = "sqlite"))]
        _ => Ok(Err(
            "give the PostgreSQL database with --database (or DATABASE_URL) to have it \
             built in a scratch schema on that server",
        )),
    }
}

/// `up --parallel N` (N > 1) on a SQLite database: the backend's refusal, given before
/// the file is opened, so that a file that does not exist is not created by a run that
/// says it wrote nothing.
pub(crate) fn refuse_parallel(database: &url::Url) -> Result<(), Error> {
    match database {
        #[cfg(feature = "sqlite")]
        url::Url::Sqlite(_) => sqlite::refuse_parallel(),
        _ => Ok(()),
    }
}

/// The database's message and advice, when the chain holds an error of the database
/// itself (or of reaching it) rather than of a migration's SQL.
pub(crate) fn cause(error: &(dyn StdError + 'static)) -> Option<(String, String)> {
    #[cfg(feature = "sqlite")]
    if let Some((message, hint)) = sqlite::sqlite_cause(error) {
        return Some((message, hint.to_owned()));
    }
    #[cfg(feature = "postgres")]
    if let Some(found) = postgres::postgres_cause(error) {
        return Some(found);
    }
    let _ = error;
    None
}

/// Whether `error`'s chain is the database refusing a write because the connection is
/// read-only, as it is while a condition runs.
pub(crate) fn wrote(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        #[cfg(feature = "sqlite")]
        if sqlite::wrote(error) {
            return true;
        }
        #[cfg(feature = "postgres")]
        if postgres::wrote(error) {
            return true;
        }
        next = error.source();
    }
    false
}
