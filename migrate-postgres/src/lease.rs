//! The lease lock, for connections through a pooler in transaction mode (PgBouncer),
//! where a session's advisory lock is taken on one server connection and released on
//! another: a row in a table beside the history names the holder and when its lease
//! expires; a thread of its own, on a connection of its own, renews it while the run
//! lasts; every commit checks, in its transaction, that the lease is still this run's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use migrate_core::{BoxError, Error};
use postgres::{Client, NoTls, SimpleQueryMessage};

use crate::history::{quote_identifier, quote_literal};

/// A lease this run holds.
pub(crate) struct Lease {
    holder: String,
    table: String,
    stop: Option<mpsc::Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
    lost: Arc<AtomicBool>,
}

/// Where the lease lives: `<history>_lock` in the history's schema.
pub(crate) fn table(schema: &str, history: &str) -> String {
    format!(
        "{}.{}",
        quote_identifier(schema),
        quote_identifier(&format!("{history}_lock"))
    )
}

fn rows(client: &mut Client, sql: &str) -> Result<Vec<postgres::SimpleQueryRow>, postgres::Error> {
    Ok(client
        .simple_query(sql)?
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .collect())
}

/// This process, as the lease names it: host, process id, and a nonce for runs of one
/// process.
fn holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".to_owned());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host} pid {} run {nonce:08x}", std::process::id())
}

/// The statements of one lease table.
struct Sql<'a> {
    table: &'a str,
    ttl_ms: u128,
}

impl Sql<'_> {
    fn create(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, \
             acquired_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)",
            self.table
        )
    }

    fn take(&self, holder: &str) -> String {
        format!(
            "INSERT INTO {table} AS lease (name, holder, acquired_at, expires_at) \
             VALUES ('migrate', {holder}, clock_timestamp(), \
             clock_timestamp() + interval '{ttl} milliseconds') \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             acquired_at = excluded.acquired_at, expires_at = excluded.expires_at \
             WHERE lease.expires_at < clock_timestamp() RETURNING holder",
            table = self.table,
            holder = quote_literal(holder),
            ttl = self.ttl_ms,
        )
    }

    fn renew(&self, holder: &str) -> String {
        format!(
            "UPDATE {} SET expires_at = clock_timestamp() + interval '{} milliseconds' \
             WHERE name = 'migrate' AND holder = {} RETURNING 1",
            self.table,
            self.ttl_ms,
            quote_literal(holder)
        )
    }
}

/// Takes the lease, trying again until `wait` has passed; then [`Error::LockTimeout`]
/// naming the holder. Outside any transaction, in simple queries only (a pooler in
/// transaction mode keeps no prepared statement from one transaction to the next).
pub(crate) fn acquire(
    client: &mut Client,
    config: &postgres::Config,
    table: &str,
    ttl: Duration,
    wait: Duration,
    scope: &str,
) -> Result<Lease, BoxError> {
    let sql = Sql {
        table,
        ttl_ms: ttl.as_millis().max(1),
    };
    let holder = holder();
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    // A failure to create the table, kept until a take shows the table still missing:
    // two runs may create it at once, and the loser's error (a duplicate type or key)
    // only means the winner's table is there.
    let mut created: Option<Option<postgres::Error>> = None;
    loop {
        let taken = match rows(client, &sql.take(&holder)) {
            Ok(rows) => !rows.is_empty(),
            Err(error) if error.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => {
                match created {
                    None => {
                        created = Some(client.batch_execute(&sql.create()).err());
                        continue;
                    }
                    Some(Some(failure)) => return Err(failure.into()),
                    Some(None) => return Err(error.into()),
                }
            }
            Err(error) => return Err(error.into()),
        };
        if taken {
            return Ok(start(config, table, holder, ttl));
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(Box::new(Error::LockTimeout {
                scope: scope.to_owned(),
                waited: wait,
                holder: describe(client, table),
                advice: "Postgres::lock_wait, --lock-wait",
            }));
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Starts renewing the lease every third of its time to live.
fn start(config: &postgres::Config, table: &str, holder: String, ttl: Duration) -> Lease {
    let (stop, stopped) = mpsc::channel::<()>();
    let lost = Arc::new(AtomicBool::new(false));
    let (config, renew, flag) = (
        config.clone(),
        Sql {
            table,
            ttl_ms: ttl.as_millis().max(1),
        }
        .renew(&holder),
        Arc::clone(&lost),
    );
    let heartbeat = std::thread::Builder::new()
        .name("migrate-lease".to_owned())
        .spawn(move || {
            let mut client = None;
            loop {
                match stopped.recv_timeout(ttl / 3) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                if client.is_none() {
                    client = config.connect(NoTls).ok();
                }
                let Some(connection) = client.as_mut() else {
                    log::warn!("could not connect to renew the migration lease");
                    continue;
                };
                match rows(connection, &renew) {
                    Ok(rows) if rows.is_empty() => {
                        log::warn!("the migration lease expired and another run took it");
                        flag.store(true, Ordering::SeqCst);
                        return;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        log::warn!("could not renew the migration lease: {error}");
                        client = None;
                    }
                }
            }
        })
        .ok();
    Lease {
        holder,
        table: table.to_owned(),
        stop: Some(stop),
        heartbeat,
        lost,
    }
}

/// Who holds the lease, from its row.
fn describe(client: &mut Client, table: &str) -> String {
    let sql = format!(
        "SELECT holder, {acquired}, {expires}, (expires_at < clock_timestamp())::text \
         FROM {table} WHERE name = 'migrate'",
        acquired = crate::lock::utc("acquired_at"),
        expires = crate::lock::utc("expires_at"),
    );
    match rows(client, &sql) {
        Ok(rows) => match rows.first() {
            Some(row) => format!(
                "the lease is held by {} since {}, {} at {} unless renewed",
                row.get(0).unwrap_or("?"),
                row.get(1).unwrap_or("?"),
                if row.get(3) == Some("true") {
                    "expired"
                } else {
                    "expiring"
                },
                row.get(2).unwrap_or("?"),
            ),
            None => "the run that held the lease has just let it go (run again)".to_owned(),
        },
        Err(error) => format!("who holds it could not be read ({error})"),
    }
}

impl Lease {
    /// Run in a step's transaction before its `COMMIT`, in the same simple query: fails
    /// the transaction when the lease is no longer this run's, and keeps the row locked
    /// until the commit so that no other run takes it over in between.
    pub(crate) fn fence(&self) -> String {
        format!(
            "DO $migrate$ BEGIN PERFORM 1 FROM {} WHERE name = 'migrate' AND holder = {} \
             FOR SHARE; IF NOT FOUND THEN RAISE EXCEPTION 'the migration lease was lost \
             (this run stalled longer than its time to live and another run took it over): \
             this migration is rolled back; run again'; END IF; END $migrate$",
            self.table,
            quote_literal(&self.holder)
        )
    }

    /// Whether the heartbeat found the lease taken by another run.
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Stops the heartbeat and gives the lease back.
    pub(crate) fn release(mut self, client: &mut Client) -> Result<(), BoxError> {
        self.stop_heartbeat();
        client.batch_execute(&format!(
            "DELETE FROM {} WHERE name = 'migrate' AND holder = {}",
            self.table,
            quote_literal(&self.holder)
        ))?;
        Ok(())
    }

    fn stop_heartbeat(&mut self) {
        drop(self.stop.take());
        if let Some(heartbeat) = self.heartbeat.take() {
            let _ = heartbeat.join();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // A lease not given back expires: stop renewing it.
        self.stop_heartbeat();
    }
}
