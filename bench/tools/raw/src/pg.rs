//! The raw PostgreSQL floors, with the `postgres` crate (the driver migrate-postgres builds
//! on), over the connection string given (TCP loopback in the benchmark).

use std::time::Instant;

use postgres::{Client, NoTls, SimpleQueryMessage};

const HISTORY: &str = "CREATE TABLE IF NOT EXISTS history (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())";
const INSERT: &str = "INSERT INTO history (version, description, checksum) VALUES ($1, $2, $3)";
const DESCRIPTION: &str = "Create a table";
const CHECKSUM: &str = "0123456789abcdef";

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|error| panic!("cannot connect to {url}: {error}"))
}

/// `pg-version URL`: the server's version and the settings that decide what a commit
/// waits for.
pub fn version(url: &str) {
    let mut client = connect(url);
    for name in [
        "server_version",
        "synchronous_commit",
        "fsync",
        "wal_sync_method",
    ] {
        let value: String = client
            .query_one(&format!("SELECT current_setting('{name}')"), &[])
            .unwrap()
            .get(0);
        println!("{name}={}", value.split_whitespace().next().unwrap_or("?"));
    }
}

/// `pg-admin URL create|drop NAME`: creates or drops database `NAME` (not timed).
pub fn admin(url: &str, action: &str, name: &str) {
    assert!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "a plain database name, not {name:?}"
    );
    let mut client = connect(url);
    let sql = match action {
        "create" => format!("CREATE DATABASE {name}"),
        "drop" => format!("DROP DATABASE IF EXISTS {name}"),
        other => panic!("create or drop, not {other:?}"),
    };
    client.batch_execute(&sql).unwrap();
    println!("ns=0");
}

/// `pg-apply URL N per|one-trip`: N `CREATE TABLE`s, each in its own transaction with its
/// history row. `per`: four round trips each, the shape migrate-postgres has (`BEGIN`; the
/// statement; the history row through a statement prepared once; `COMMIT`). `one-trip`:
/// the same transaction as one simple query (`BEGIN; ...; INSERT ... literals; COMMIT`),
/// one round trip each.
pub fn apply(url: &str, n: usize, mode: &str) {
    let sql: Vec<String> = (1..=n)
        .map(|i| format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT)"))
        .collect();
    let start = Instant::now();
    let mut client = connect(url);
    match mode {
        "per" => {
            let mut insert = None;
            for (i, statement) in sql.iter().enumerate() {
                client.batch_execute("BEGIN").unwrap();
                if i == 0 {
                    client.batch_execute(HISTORY).unwrap();
                }
                client.batch_execute(statement).unwrap();
                let insert = insert.get_or_insert_with(|| client.prepare(INSERT).unwrap());
                client
                    .execute(&*insert, &[&(i as i64 + 1), &DESCRIPTION, &CHECKSUM])
                    .unwrap();
                client.batch_execute("COMMIT").unwrap();
            }
        }
        "one-trip" => {
            for (i, statement) in sql.iter().enumerate() {
                let history = if i == 0 {
                    format!("{HISTORY}; ")
                } else {
                    String::new()
                };
                client
                    .batch_execute(&format!(
                        "BEGIN; {history}{statement}; INSERT INTO history (version, \
                         description, checksum) VALUES ({}, '{DESCRIPTION}', '{CHECKSUM}'); COMMIT",
                        i + 1
                    ))
                    .unwrap();
            }
        }
        other => panic!("per or one-trip, not {other:?}"),
    }
    drop(client);
    println!("ns={}", start.elapsed().as_nanos());
}

/// `pg-check URL N`: the start-up check: connect, read the history once (one simple
/// query, one round trip), compare with the N known versions. Prints the time to connect
/// too (`connect_ns`).
pub fn check(url: &str, n: usize) {
    let start = Instant::now();
    let mut client = connect(url);
    let connected = start.elapsed();
    let rows: Vec<(i64, String)> = client
        .simple_query("SELECT version, checksum FROM history ORDER BY version")
        .unwrap()
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some((
                row.get(0).unwrap().parse().unwrap(),
                row.get(1).unwrap().to_owned(),
            )),
            _ => None,
        })
        .collect();
    let pending = n - rows.len();
    let elapsed = start.elapsed();
    crate::assert_all_applied(pending, &rows);
    drop(client);
    println!("ns={}", elapsed.as_nanos());
    println!("connect_ns={}", connected.as_nanos());
}
