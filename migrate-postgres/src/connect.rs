//! Connecting: [`Postgres::connect`], [`Postgres::connect_config`] and
//! [`Postgres::from_client`], the refusal of TLS, and a connection described without its
//! password.

use std::time::Duration;

use migrate_core::Error;
use postgres::{Client, NoTls, SimpleQueryMessage};

use crate::database::{DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Lock, Postgres};
use crate::history::{DEFAULT_HISTORY_TABLE, HistorySql};
use crate::offload::off_runtime;
use crate::transaction::PgTransaction;

/// How long [`Postgres::connect`] waits for the server unless the connection string sets
/// `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Postgres {
    /// Connects with a connection string: a URL (`postgres://user:password@host:5432/db`)
    /// or `key=value` pairs (`host=localhost user=app dbname=app`), as libpq takes them.
    /// Waits [`DEFAULT_CONNECT_TIMEOUT`] for the server unless the string sets
    /// `connect_timeout`, and names the session `migrate` in `pg_stat_activity` unless it
    /// sets `application_name`. No TLS: `sslmode=prefer` (the default) and `disable`
    /// connect without it; for TLS, connect a client with a TLS connector yourself and
    /// pass it to [`Postgres::from_client`].
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] naming the host, port, database and user (never the password)
    /// and what to check, when the string cannot be read or the server refuses or cannot
    /// be reached; at once, before connecting, when the string asks for TLS
    /// (`sslmode=require`, `verify-ca`, `verify-full`), saying what to do instead.
    pub fn connect(url: &str) -> Result<Self, Error> {
        // The driver does not read verify-ca or verify-full: said here, not as a parse
        // error of the string.
        if let Some(mode) = ssl_mode(url).filter(|mode| mode.starts_with("verify-")) {
            return Err(no_tls(&mode, None));
        }
        let config: postgres::Config = url.parse().map_err(|source| Error::Connect {
            action: "read the PostgreSQL connection string".to_owned(),
            advice: "write it as a URL, postgres://user:password@host:port/database, or as \
                     key=value pairs, host=... port=... user=... dbname=...",
            source: Box::new(source),
        })?;
        Self::connect_config(config)
    }

    /// [`connect`](Self::connect) with the driver's [`postgres::Config`], built or
    /// parsed yourself.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) (`SslMode::Require` is refused at once).
    pub fn connect_config(mut config: postgres::Config) -> Result<Self, Error> {
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(no_tls("require", Some(&config)));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("migrate");
        }
        let client = off_runtime(|| config.connect(NoTls)).map_err(|source| Error::Connect {
            action: format!("connect to PostgreSQL {}", describe(&config)),
            advice: connect_advice(&source),
            source: Box::new(source),
        })?;
        let mut postgres = Self::from_client(client)?;
        postgres.config = Some(config);
        Ok(postgres)
    }

    /// Migrates through a client you connected yourself (with TLS, a pooler's settings,
    /// ...). Reads the connection's first `search_path` schema, where the history goes
    /// unless [`schema`](Self::schema) names another.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the server cannot be asked, or when its `search_path`
    /// names no schema that exists (name one with [`schema`](Self::schema)).
    pub fn from_client(mut client: Client) -> Result<Self, Error> {
        // A simple query: through a pooler in transaction mode, a statement prepared in
        // one round trip may be gone in the next.
        let schema = off_runtime(|| {
            client
                .simple_query("SELECT current_schema()")
                .map(|messages| {
                    messages.into_iter().find_map(|message| match message {
                        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                        _ => None,
                    })
                })
        })
        .map_err(|source| Error::Database {
            action: "read the connection's schema".to_owned(),
            source: Box::new(source),
        })?;
        let Some(schema) = schema else {
            return Err(Error::Database {
                action: "find the schema for the history table".to_owned(),
                source: "the connection's search_path names no schema that exists; create \
                         one, or name the schema with Postgres::schema"
                    .into(),
            });
        };
        Ok(Postgres {
            tx: PgTransaction::new(client),
            sql: HistorySql::new(&schema, DEFAULT_HISTORY_TABLE),
            schema,
            table: DEFAULT_HISTORY_TABLE.to_owned(),
            lock_wait: DEFAULT_LOCK_WAIT,
            lock_timeout: Some(DEFAULT_LOCK_TIMEOUT),
            lock: Lock::Advisory,
            config: None,
            held: None,
            verified: false,
            last_read: None,
            step: 0,
            steps: 0,
            table_ready: false,
            table_created: false,
            prepared: Vec::new(),
            restore_local: None,
            restore_session: None,
            read_only_scope: false,
        })
    }
}

/// The value of `sslmode` in a connection string (a URL's query or `key=value` pairs),
/// lower-cased, when it has one.
fn ssl_mode(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let at = lower.find("sslmode")?;
    let rest = lower[at + "sslmode".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// What to check when [`Postgres::connect`] fails: the server out of reach, the login
/// refused, the database missing; the driver's own message follows as the cause.
fn connect_advice(error: &postgres::Error) -> &'static str {
    use postgres::error::SqlState;
    match error.code() {
        None => {
            "the PostgreSQL server cannot be reached; check that it runs and listens on that \
             host and port, that they are the right ones, and that no firewall is in the way \
             (a slow network may need a longer connect_timeout)"
        }
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            "the server refused the login; check the user and password, and that the \
             server's pg_hba.conf lets this user connect to this database from this host"
        }
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
            "the database does not exist; create it (createdb NAME, or CREATE DATABASE) or \
             correct the database name"
        }
        Some(_) => {
            "the server refused the session (its message follows); check the user, the \
             database and the server's pg_hba.conf"
        }
    }
}

/// A connection string that asks for TLS, which [`Postgres::connect`] does not speak.
fn no_tls(mode: &str, config: Option<&postgres::Config>) -> Error {
    let at = config.map(|config| format!(" {}", describe(config)));
    Error::Connect {
        action: format!(
            "connect to PostgreSQL{} with TLS (sslmode={mode})",
            at.unwrap_or_default()
        ),
        advice: "Postgres::connect speaks no TLS: use sslmode=prefer or sslmode=disable, or \
                 pass a client connected with TLS to Postgres::from_client",
        source: Box::new(TlsNotSupported {
            mode: mode.to_owned(),
        }),
    }
}

/// The cause of the [`Error::Database`] that [`Postgres::connect`] returns, before
/// connecting, for a connection string that asks for TLS (`sslmode=require`,
/// `verify-ca`, `verify-full`): TLS is not supported there yet. Its message says what to
/// do in code instead ([`Postgres::from_client`] with a client connected with a TLS
/// connector).
#[derive(Debug)]
pub struct TlsNotSupported {
    mode: String,
}

impl TlsNotSupported {
    /// The `sslmode` the connection string asked for (`require`, `verify-ca`,
    /// `verify-full`).
    pub fn ssl_mode(&self) -> &str {
        &self.mode
    }
}

impl std::fmt::Display for TlsNotSupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migrate-postgres does not support TLS in Postgres::connect yet (the connection \
             string says sslmode={}); in code, connect a postgres::Client with a TLS \
             connector yourself (postgres-native-tls, postgres-openssl or \
             tokio-postgres-rustls) and pass it to Postgres::from_client; where the network \
             may carry the connection unencrypted, use sslmode=prefer or sslmode=disable; \
             nothing was sent to the server",
            self.mode
        )
    }
}

impl std::error::Error for TlsNotSupported {}

/// Host, port, database and user of a connection string, never its password.
fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports = config.get_ports();
    let at = match (hosts.as_slice(), ports) {
        ([], _) => "localhost".to_owned(),
        ([host], [port]) => format!("{host}:{port}"),
        ([host], _) => format!("{host}:5432"),
        (hosts, _) => hosts.join(","),
    };
    format!(
        "at {at} (database {}, user {})",
        config.get_dbname().unwrap_or("(the user's name)"),
        config.get_user().unwrap_or("(the system user)")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::quote_literal;

    #[test]
    fn a_connection_string_is_described_without_its_password() {
        let config: postgres::Config = "postgres://app:s3cret@db.example:6543/orders"
            .parse()
            .unwrap();
        let text = describe(&config);
        assert_eq!(text, "at db.example:6543 (database orders, user app)");
        assert!(!text.contains("s3cret"));
        assert_eq!(quote_literal("x"), "E'x'");
    }

    #[test]
    fn the_ssl_mode_is_read_from_urls_and_key_value_pairs() {
        for (url, mode) in [
            ("postgres://app@db/app?sslmode=require", Some("require")),
            (
                "postgres://app@db/app?connect_timeout=3&sslmode=verify-full&x=1",
                Some("verify-full"),
            ),
            ("host=db sslmode = 'verify-ca' user=app", Some("verify-ca")),
            ("host=db SSLMODE=Prefer", Some("prefer")),
            ("host=db user=app", None),
        ] {
            assert_eq!(ssl_mode(url).as_deref(), mode, "{url}");
        }
    }
}
