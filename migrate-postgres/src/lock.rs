//! The migration lock: a session-level advisory lock per schema, history table and set,
//! taken by polling (never waiting inside the server, so that a waiting runner holds no
//! transaction a concurrent index build would wait for) and held across a run's steps.

use std::time::{Duration, Instant};

use migrate_core::{BoxError, Error};
use postgres::Client;

/// The advisory lock's first key: `migr` in ASCII, so the lock reads as migrate's in
/// `pg_locks.classid`.
pub(crate) const LOCK_CLASS: i32 = 0x6d69_6772;

/// Sets `client_connection_check_interval` where the server knows it.
const CHECK_CLIENT: &str = "DO $migrate$ BEGIN PERFORM set_config('client_connection_check_interval', \
    '1000', false); EXCEPTION WHEN undefined_object THEN NULL; END $migrate$; ";

/// The longest pause between two attempts at the lock.
const LONGEST_PAUSE: Duration = Duration::from_millis(500);

/// The lock's second key: FNV-1a of the schema, table and set, kept non-negative so that
/// it reads the same in `pg_locks.objid`.
pub(crate) fn key(schema: &str, table: &str, set: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in [schema, table, set].join("\0").bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash & 0x7fff_ffff).cast_signed()
}

/// What the lock covers, for messages.
pub(crate) fn scope(table: &str, set: &str) -> String {
    if set.is_empty() {
        format!("history table {table}")
    } else {
        format!("history table {table}, set {set:?}")
    }
}

/// Takes the lock, trying again with growing pauses until `wait` has passed; then
/// [`Error::LockTimeout`] naming who holds it. Outside any transaction.
pub(crate) fn acquire(
    client: &mut Client,
    key: i32,
    wait: Duration,
    scope: &str,
    first: bool,
    advice: &'static str,
) -> Result<(), BoxError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    // The first time on a connection, in the same round trip: a server that checks the
    // client while a statement runs (PostgreSQL 14 and later) ends a dead migrator's
    // session, and so frees its lock, within a second instead of when the statement ends.
    let mut prefix = if first { CHECK_CLIENT } else { "" };
    loop {
        // Simple queries, here and below: one round trip, no statement to prepare.
        let got = first_value(
            client,
            &format!("{prefix}SELECT pg_try_advisory_lock({LOCK_CLASS}, {key})"),
        )? == "t";
        prefix = "";
        if got {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(Box::new(Error::LockTimeout {
                scope: scope.to_owned(),
                waited: wait,
                holder: holder(client, key),
                advice,
            }));
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Whether the server shows the lock this session was just granted: engines that speak
/// PostgreSQL's protocol without its locks (CockroachDB, YugabyteDB, Aurora DSQL) accept
/// the call and lock nothing.
pub(crate) fn really_held(client: &mut Client, key: i32) -> Result<bool, BoxError> {
    let shown = first_value(
        client,
        &format!(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND pid = pg_backend_pid() AND granted AND objsubid = 2 \
             AND classid::bigint = {LOCK_CLASS} AND objid::bigint = {key}"
        ),
    )?;
    Ok(shown != "0")
}

/// A statement that fails unless the session `pid` still holds the lock `key`: sent
/// with each commit of a session working under another's lock (migrations run at once),
/// so that nothing commits once that session is gone and the lock with it.
pub(crate) fn fence(pid: i32, key: i32) -> String {
    format!(
        "DO $migrate$ BEGIN PERFORM 1 FROM pg_locks WHERE locktype = 'advisory' \
         AND pid = {pid} AND granted AND objsubid = 2 AND classid::bigint = {LOCK_CLASS} \
         AND objid::bigint = {key}; IF NOT FOUND THEN RAISE EXCEPTION 'the migration lock \
         of this run was lost (the session holding it ended): this migration is rolled \
         back; run again'; END IF; END $migrate$"
    )
}

/// Releases the lock (outside any transaction).
pub(crate) fn release(client: &mut Client, key: i32) -> Result<(), BoxError> {
    first_value(
        client,
        &format!("SELECT pg_advisory_unlock({LOCK_CLASS}, {key})"),
    )?;
    Ok(())
}

/// The first column of the first row of a simple query (`""` for none or NULL).
fn first_value(client: &mut Client, sql: &str) -> Result<String, postgres::Error> {
    Ok(client
        .simple_query(sql)?
        .into_iter()
        .find_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("").to_owned()),
            _ => None,
        })
        .unwrap_or_default())
}

/// Who holds the lock, from `pg_locks` and `pg_stat_activity`.
fn holder(client: &mut Client, key: i32) -> String {
    sessions(
        client,
        &format!(
            "SELECT a.pid, coalesce(a.application_name, ''), \
             coalesce(host(a.client_addr), 'the local socket'), {backend_start}, \
             coalesce(a.state, ''), left(coalesce(a.query, ''), 200), {query_start} \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
             AND l.classid::bigint = {LOCK_CLASS} AND l.objid::bigint = {key} \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            backend_start = utc("a.backend_start"),
            query_start = utc("a.query_start"),
        ),
    )
    .unwrap_or_else(|| "the session that held it has just let it go (run again)".to_owned())
}

/// The sessions a simple query lists (pid, application, client, connected, state,
/// query, query start), as a message shows them; `None` for none.
fn sessions(client: &mut Client, sql: &str) -> Option<String> {
    let rows: Vec<postgres::SimpleQueryRow> = match client.simple_query(sql) {
        Ok(messages) => messages
            .into_iter()
            .filter_map(|message| match message {
                postgres::SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .collect(),
        Err(error) => return Some(format!("who holds it could not be read ({error})")),
    };
    if rows.is_empty() {
        return None;
    }
    let text = |row: &postgres::SimpleQueryRow, i: usize| row.get(i).unwrap_or("").to_owned();
    Some(
        rows.iter()
            .map(|row| {
                session(
                    text(row, 0).parse().unwrap_or(0),
                    &text(row, 1),
                    &text(row, 2),
                    &text(row, 3),
                    &text(row, 4),
                    &text(row, 5),
                    &text(row, 6),
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// The sessions of this database, other than this one, that hold table locks inside a
/// transaction, oldest transaction first: who a statement that hit its `lock_timeout`
/// was most likely waiting for.
pub(crate) fn table_lock_holders(client: &mut Client) -> String {
    let sql = format!(
        "SELECT DISTINCT a.pid, coalesce(a.application_name, ''), \
         coalesce(host(a.client_addr), 'the local socket'), {backend_start}, \
         coalesce(a.state, ''), left(coalesce(a.query, ''), 200), {query_start}, \
         a.xact_start \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'relation' AND l.granted AND a.pid <> pg_backend_pid() \
         AND a.xact_start IS NOT NULL \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY a.xact_start LIMIT 3",
        backend_start = utc("a.backend_start"),
        query_start = utc("a.query_start"),
    );
    match sessions(client, &sql) {
        Some(sessions) => format!("held by {sessions}"),
        None => "the sessions that held it have let it go since".to_owned(),
    }
}

/// `to_char` of a timestamp column as RFC 3339 in UTC, `''` when NULL.
pub(crate) fn utc(column: &str) -> String {
    format!("coalesce(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')")
}

/// One session as a message shows it.
pub(crate) fn session(
    pid: i32,
    application: &str,
    client: &str,
    connected: &str,
    state: &str,
    query: &str,
    query_start: &str,
) -> String {
    let application = if application.is_empty() {
        String::new()
    } else {
        format!("application {application:?}, ")
    };
    let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
    let doing = match state {
        "" => "state unknown (insufficient privilege to see it)".to_owned(),
        "active" => format!("running `{query}` since {query_start}"),
        state => format!("{state}, last ran `{query}` at {query_start}"),
    };
    format!(
        "session pid {pid} ({application}client {client}, connected since {connected}), {doing}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_schema_table_and_set_and_stay_non_negative() {
        let keys = [
            key("public", "migrate_history", ""),
            key("tenant_1", "migrate_history", ""),
            key("public", "other_history", ""),
            key("public", "migrate_history", "audit"),
            // The separator keeps ("ab", "c") apart from ("a", "bc").
            key("ab", "c", ""),
            key("a", "bc", ""),
        ];
        for (i, a) in keys.iter().enumerate() {
            assert!(*a >= 0);
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
