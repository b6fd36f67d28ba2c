//! Scratch schemas: a schema that exists only while a tool uses it (the command line's
//! `history`, [`testing::check_migrations`](crate::testing::check_migrations)), dropped
//! by its owner when done. One whose process was killed before it could drop it is
//! recognised by its name and dropped at the next scratch schema's creation.

use std::hash::{BuildHasher as _, Hasher as _};

use postgres::SimpleQueryMessage;

use crate::history::quote_literal;
use crate::{Error, Postgres};

/// How every scratch schema's name starts: then the process id of the server session
/// that created it (`pg_backend_pid()`), then a random part
/// (`migrate_scratch_4242_9f3a01c2`). Such a schema whose session is no longer in
/// `pg_stat_activity` is a leftover, and [`create_scratch_schema`] drops it.
pub const SCRATCH_PREFIX: &str = "migrate_scratch_";

/// Creates a new, empty schema for `db`'s session to work in, and returns its name.
/// Drop it when done; if the process dies first, the session ends with it, and the next
/// call (from any process, on the same database) drops it. Before creating its own,
/// drops every scratch schema whose session has ended; one it may not drop (another
/// user's) is left, with a warning in the log. A scratch schema lives while the session
/// that created it does: keep `db` open while the schema is in use. `purpose` says what
/// it is for, in the error and in the schema's comment
/// (e.g. "on which `history` applies the migrations").
///
/// # Errors
///
/// [`Error::Database`] when the schema cannot be created, naming it and the privilege
/// needed (CREATE on the database).
pub fn create_scratch_schema(db: &mut Postgres, purpose: &str) -> Result<String, Error> {
    let failed = |name: &str, source: postgres::Error| Error::Database {
        action: format!(
            "create the scratch schema {name} {purpose} (the user of the connection needs \
             the CREATE privilege on the database)"
        ),
        source: Box::new(source),
    };
    let pid = first_column(db, "SELECT pg_backend_pid()::text")
        .map_err(|source| failed(SCRATCH_PREFIX, source))?
        .into_iter()
        .next()
        .unwrap_or_default();
    drop_leftovers(db);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let name = format!("{SCRATCH_PREFIX}{pid}_{:08x}", random & 0xffff_ffff);
    let comment = format!(
        "scratch schema of migrate {purpose}, created by the server session {pid}: \
         dropped when done; safe to drop once that session has ended"
    );
    db.connection()
        .batch_execute(&format!(
            "CREATE SCHEMA {name}; COMMENT ON SCHEMA {name} IS {}",
            quote_literal(&comment)
        ))
        .map_err(|source| failed(&name, source))?;
    Ok(name)
}

/// Drops the scratch schemas whose creating session has ended.
fn drop_leftovers(db: &mut Postgres) {
    // The pid is read only from names of the scratch form (a CASE, as PostgreSQL may
    // evaluate a WHERE's conditions in any order).
    let leftovers = first_column(
        db,
        &format!(
            "SELECT nspname::text FROM (SELECT nspname, CASE WHEN pid ~ '^[0-9]{{1,9}}$' \
             THEN pid::int END AS pid FROM (SELECT nspname, split_part(substr(nspname, {start}), \
             '_', 1) AS pid FROM pg_namespace WHERE starts_with(nspname, {prefix})) named) \
             scratch WHERE pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)",
            start = SCRATCH_PREFIX.len() + 1,
            prefix = quote_literal(SCRATCH_PREFIX),
        ),
    );
    let leftovers = match leftovers {
        Ok(leftovers) => leftovers,
        Err(error) => {
            log::warn!("could not look for scratch schemas left by ended sessions: {error}");
            return;
        }
    };
    for name in leftovers {
        let drop = format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            name.replace('"', "\"\"")
        );
        match db.connection().batch_execute(&drop) {
            Ok(()) => log::info!("dropped {name}, a scratch schema whose session has ended"),
            Err(error) => log::warn!(
                "could not drop {name}, a scratch schema whose session has ended: {error}; \
                 drop it by hand: {drop}"
            ),
        }
    }
}

/// The first column of every row of a simple query (one round trip, no statement
/// prepared: it works through a pooler in transaction mode too).
fn first_column(db: &mut Postgres, sql: &str) -> Result<Vec<String>, postgres::Error> {
    let messages = db
        .connection()
        .with_client(|client| client.simple_query(sql))?;
    Ok(messages
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect())
}
