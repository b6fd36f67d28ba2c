//! The PostgreSQL backend of the command: connecting with `--lock-wait`, `--schema`,
//! `--history-table` and `--lock`, one schema of a fan-out, the scratch schema of
//! `history` and its catalog, the schemas `--each-schema` selects, and the diagnosis of
//! errors of the server (or of reaching it).

use std::collections::VecDeque;
use std::error::Error as StdError;
use std::time::Duration;

use clap::ArgMatches;
use migrate_core::{Backend, BoxError, Error};
use migrate_postgres::Postgres;
use migrate_postgres::postgres::error::SqlState;

use crate::failure::Failure;
use crate::open::scratch::{SchemaText, Scratch};

/// Connects to PostgreSQL: `--lock-wait` is how long a run waits for another
/// session's migration lock, `--schema` and `--history-table` where the history is.
pub(crate) fn open(matches: &ArgMatches, url: &str) -> Result<Postgres, Failure> {
    let mut db = Postgres::connect(url)?.lock_wait(
        matches
            .get_one::<Duration>("lock-wait")
            .copied()
            .unwrap_or(migrate_postgres::DEFAULT_LOCK_WAIT),
    );
    if let Some(schema) = matches.get_one::<String>("schema") {
        db = db.schema(schema);
    }
    if let Some(table) = matches.get_one::<String>("history-table") {
        db = db.history_table(table);
    }
    if matches.get_one::<String>("lock").map(String::as_str) == Some("lease") {
        db = db.lock(migrate_postgres::Lock::LEASE);
    }
    Ok(db)
}

/// One schema of `--each-schema`: its history in the schema, and the schema as the
/// connection's `search_path`, so that the migrations' unqualified names land in it.
pub(crate) fn open_schema(
    matches: &ArgMatches,
    url: &str,
    schema: &str,
) -> Result<Postgres, Error> {
    let db = open(matches, url).map_err(Failure::into_error)?;
    let mut db = db.schema(schema);
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    db.connection()
        .batch_execute(&format!("SET search_path TO {quoted}"))
        .map_err(|source| Error::Database {
            action: format!("set the search_path to the schema {quoted}"),
            source: Box::new(source),
        })?;
    Ok(db)
}

/// The scratch schema on a PostgreSQL server, dropped with this value (also when a
/// migration fails), or by the next scratch schema's creation when the process was
/// killed first.
pub(crate) struct PgScratch {
    db: Postgres,
    name: String,
}

/// A new, empty schema on the server `url` names, with a connection whose `search_path`
/// is that schema alone, so that the migrations' unqualified names land in it.
pub(crate) fn scratch(url: &str) -> Result<PgScratch, Error> {
    let mut db = Postgres::connect(url)?;
    let name = migrate_postgres::scratch::create_scratch_schema(
        &mut db,
        "on which `history` applies the migrations",
    )?;
    // Owned first, so that it is dropped if what follows fails.
    let mut scratch = PgScratch {
        db: db.schema(&name),
        name,
    };
    let set = format!("SET search_path TO {}", scratch.name);
    scratch
        .db
        .connection()
        .batch_execute(&set)
        .map_err(|source| Error::Database {
            action: format!("use the scratch schema {} of `history`", scratch.name),
            source: Box::new(source),
        })?;
    Ok(scratch)
}

impl Scratch for PgScratch {
    fn backend(&mut self) -> &mut dyn Backend {
        &mut self.db
    }

    /// One line per object from PostgreSQL's catalog (`Postgres::schema_objects`).
    fn schema(&mut self) -> Result<SchemaText, Error> {
        // The catalog qualifies some names (an index's table) with the scratch schema,
        // whose name means nothing to the reader.
        let prefix = format!("{}.", self.name);
        let lines = self.db.schema_objects()?;
        let lines = lines.iter().map(|line| line.replace(&prefix, "")).collect();
        Ok(SchemaText {
            language: "text",
            lines,
        })
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(error) = self.db.connection().batch_execute(&drop) {
            eprintln!(
                "warning: could not drop the scratch schema {} of `history`: {error}; drop it \
                 by hand: {drop}",
                self.name
            );
        }
    }
}

/// The schemas `--each-schema` selects: `$1` the `LIKE` pattern.
const SCHEMAS: &str = "nspname LIKE $1 AND nspname NOT LIKE 'pg\\_%' \
                       AND nspname <> 'information_schema'";

/// How many schema names are fetched at a time.
const PAGE: i64 = 500;

fn list_error(source: BoxError) -> Error {
    Error::Database {
        action: "list the schemas of the database (pg_namespace)".to_owned(),
        source,
    }
}

/// The schemas of the database at `url` whose names match `pattern` (`*` any
/// characters, `?` one), PostgreSQL's own (`pg_*`, `information_schema`) never: how
/// many there are, counted first, then their names in name order, listed a page at a
/// time as they are taken.
pub(crate) fn schemas(url: &str, pattern: &str) -> Result<(usize, SchemaPages), Error> {
    let mut pages = SchemaPages {
        db: Postgres::connect(url)?,
        like: like_pattern(pattern),
        after: None,
        page: VecDeque::new(),
        done: false,
    };
    let total: i64 = pages
        .db
        .connection()
        .query_one(
            &format!("SELECT count(*) FROM pg_namespace WHERE {SCHEMAS}"),
            &[&pages.like],
        )
        .map_err(|source| list_error(Box::new(source)))?
        .get(0);
    Ok((usize::try_from(total).unwrap_or(usize::MAX), pages))
}

/// The selected schemas, fetched a page at a time in name order (each page after the
/// last name of the one before); a page that cannot be read ends the list with the
/// error's message.
pub(crate) struct SchemaPages {
    db: Postgres,
    like: String,
    after: Option<String>,
    page: VecDeque<String>,
    done: bool,
}

impl Iterator for SchemaPages {
    type Item = Result<String, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() && !self.done {
            let sql = format!(
                "SELECT nspname::text FROM pg_namespace WHERE {SCHEMAS} \
                 AND ($2::text IS NULL OR nspname > $2::name) ORDER BY nspname LIMIT {PAGE}"
            );
            match self.db.connection().query(&sql, &[&self.like, &self.after]) {
                Ok(rows) => {
                    self.done = rows.len() < usize::try_from(PAGE).unwrap_or(0);
                    self.page = rows.iter().map(|row| row.get(0)).collect();
                    self.after = self.page.back().cloned().or(self.after.take());
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(list_error(Box::new(source)).to_string()));
                }
            }
        }
        self.page.pop_front().map(Ok)
    }
}

/// A `*`/`?` pattern as SQL `LIKE` (escape character `\`, the default).
fn like_pattern(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            c => like.push(c),
        }
    }
    like
}

/// Whether `error` is PostgreSQL refusing a write because the transaction is read-only,
/// as it is while a condition runs.
pub(crate) fn wrote(error: &(dyn StdError + 'static)) -> bool {
    error
        .downcast_ref::<migrate_postgres::postgres::Error>()
        .is_some_and(|error| error.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION))
}

/// PostgreSQL's message and advice: a statement stopped by its `lock_timeout`, a server
/// out of reach, a login or database refused.
pub(crate) fn postgres_cause(error: &(dyn StdError + 'static)) -> Option<(String, String)> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(timed_out) = error.downcast_ref::<migrate_postgres::LockTimedOut>() {
            let holders = timed_out
                .holders()
                .map_or_else(String::new, |holders| format!(" ({holders})"));
            return Some((
                format!(
                    "a statement waited longer than the migration's lock_timeout for a table \
                     lock that another session holds{holders}"
                ),
                "let that session finish, or end it (SELECT pg_terminate_backend(pid)), then \
                 run the same command again"
                    .to_owned(),
            ));
        }
        if let Some(tls) = error.downcast_ref::<migrate_postgres::TlsNotSupported>() {
            return Some((
                format!(
                    "the URL asks for TLS (sslmode={}), which the migrate command does not \
                     support yet",
                    tls.ssl_mode()
                ),
                "where the network may carry the connection unencrypted, use \
                 sslmode=prefer or sslmode=disable in the URL (--database or DATABASE_URL); \
                 otherwise reach the server through a TLS tunnel (stunnel, ssh -L) and give \
                 the URL of its local end"
                    .to_owned(),
            ));
        }
        if let Some(error) = error.downcast_ref::<migrate_postgres::postgres::Error>() {
            // The driver's message, then its causes (the system's "Connection refused").
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message = format!("{message}: {text}");
                }
                source = cause.source();
            }
            let hint = match error.code() {
                Some(code)
                    if *code == SqlState::INVALID_PASSWORD
                        || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                {
                    "the server refused the login; check the user and password of the URL \
                     (--database or DATABASE_URL) and the server's pg_hba.conf"
                }
                Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
                    "the database does not exist; create it (createdb NAME) or correct the \
                     database name in the URL (--database or DATABASE_URL)"
                }
                Some(_) => return None,
                None if message.starts_with("error connecting") || message.contains("timeout") => {
                    "the PostgreSQL server cannot be reached; check that it runs and listens \
                     on the host and port of the URL (--database or DATABASE_URL), and that \
                     no firewall is in the way (a slow network may need a longer \
                     ?connect_timeout=SECONDS in the URL)"
                }
                None => return None,
            };
            return Some((message, hint.to_owned()));
        }
        next = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn schema_patterns_become_like_patterns() {
        assert_eq!(like_pattern("tenant_*"), "tenant\\_%");
        assert_eq!(like_pattern("t?x"), "t_x");
        assert_eq!(like_pattern("100%\\"), "100\\%\\\\");
    }
}
