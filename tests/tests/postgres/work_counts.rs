//! What the PostgreSQL backend sends, counted on the wire: a proxy between the backend
//! and the server reads the protocol's frontend messages. Round trips are the messages
//! that make the server answer (`Q`, a simple query, and `S`, the end of an extended
//! query); no time is measured.

use migrate_test_support::pg;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_postgres::postgres::Config;
use migrate_postgres::{
    BoxError, Db, Migration, Migrator, Postgres, RegisteredMigration, migration,
};

/// Counts of frontend messages that passed through the proxy.
#[derive(Default)]
struct Wire {
    round_trips: AtomicUsize,
}

impl Wire {
    fn round_trips(&self) -> usize {
        self.round_trips.load(Ordering::SeqCst)
    }
}

/// A proxy to the test server on a local port; returns the port and its counts.
fn proxy() -> (u16, Arc<Wire>) {
    let config: Config = pg::server()
        .parse()
        .expect("the server's connection string");
    let host = match config.get_hosts().first() {
        Some(migrate_postgres::postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap().port();
    let wire = Arc::new(Wire::default());
    let counts = Arc::clone(&wire);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = TcpStream::connect((host.as_str(), port)).unwrap();
            let (mut to_client, mut from_server) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_server, &mut to_client);
            });
            let counts = Arc::clone(&counts);
            std::thread::spawn(move || frontend(client, server, &counts));
        }
    });
    (local, wire)
}

/// Forwards the client's messages to the server, counting them.
fn frontend(mut client: TcpStream, mut server: TcpStream, wire: &Wire) {
    let mut forward = |bytes: &[u8]| server.write_all(bytes).is_ok();
    // Untyped first: SSL or GSS requests, then the startup message.
    loop {
        let mut length = [0u8; 4];
        if client.read_exact(&mut length).is_err() {
            return;
        }
        let mut body = vec![0u8; u32::from_be_bytes(length) as usize - 4];
        if client.read_exact(&mut body).is_err() || !forward(&length) || !forward(&body) {
            return;
        }
        let code = u32::from_be_bytes(body[..4].try_into().unwrap());
        if code != 80_877_103 && code != 80_877_104 {
            break;
        }
    }
    loop {
        let mut head = [0u8; 5];
        if client.read_exact(&mut head).is_err() {
            return;
        }
        let length = u32::from_be_bytes(head[1..].try_into().unwrap()) as usize;
        let mut body = vec![0u8; length - 4];
        if client.read_exact(&mut body).is_err() {
            return;
        }
        // WIRE_DEBUG=1 shows each message, to see where a count comes from.
        if std::env::var_os("WIRE_DEBUG").is_some() {
            eprintln!(
                "{} {}",
                head[0] as char,
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(80)
                    .collect::<String>()
            );
        }
        if matches!(head[0], b'Q' | b'S') {
            wire.round_trips.fetch_add(1, Ordering::SeqCst);
        }
        if !forward(&head) || !forward(&body) {
            return;
        }
    }
}

macro_rules! create_tables {
    ($($ty:ident $version:tt),* $(,)?) => {
        $(
            #[migration(set = "work_counts", version = $version, description = "Create a table", irreversible)]
            struct $ty;

            impl Migration for $ty {
                fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                    db.execute(concat!("CREATE TABLE t_", stringify!($version), " (id INT)"))
                }
            }
        )*

        fn all() -> Vec<&'static RegisteredMigration> {
            vec![$($ty::get_migration()),*]
        }
    };
}

create_tables!(
    T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7, T8 8, T9 9, T10 10,
    T11 11, T12 12, T13 13, T14 14, T15 15, T16 16, T17 17, T18 18, T19 19, T20 20,
);

fn first(n: usize) -> Migrator {
    Migrator::for_set("work_counts")
        .register_migrations(all().into_iter().take(n))
        .unwrap()
}

/// Round trips of one run of `migrator` on a fresh schema through the proxy, after
/// connecting; and of a second start with everything applied.
fn measure(test: &str, migrator: &Migrator) -> Option<(usize, usize)> {
    let schema = pg::TestSchema::new(test)?;
    let (port, wire) = proxy();
    let config: Config = pg::server().parse().unwrap();
    let user = config.get_user().unwrap_or("postgres");
    let dbname = config.get_dbname().unwrap_or(user);
    let url = format!(
        "host=127.0.0.1 port={port} user={user} dbname={dbname} options='-c search_path={}'",
        schema.name
    );
    let mut db = Postgres::connect(&url).unwrap();
    let connected = wire.round_trips();
    migrator.to_latest(&mut db).unwrap();
    let applied = wire.round_trips();
    assert!(migrator.to_latest(&mut db).unwrap().is_empty());
    let checked = wire.round_trips();
    Some((applied - connected, checked - applied))
}

/// Each migration costs four round trips: `BEGIN` with its settings, the migration's
/// SQL, the history row (a statement prepared once per connection), `COMMIT`; the raw
/// floor's count. A start with everything applied costs one: the history read.
#[test]
fn four_round_trips_per_migration_and_one_for_a_start_with_nothing_to_do() {
    let (Some((ten, check_ten)), Some((twenty, check_twenty))) =
        (measure("wire10", &first(10)), measure("wire20", &first(20)))
    else {
        return;
    };
    assert_eq!((twenty - ten) % 10, 0, "{ten} and {twenty}");
    assert_eq!(
        (twenty - ten) / 10,
        4,
        "per migration: {ten} for 10, {twenty} for 20"
    );
    assert_eq!(check_ten, 1, "the start-up check is one read");
    assert_eq!(check_twenty, 1, "whatever the history's length");
    // What a run with work costs once: the lock (taken, shown in pg_locks, released),
    // the table's creation, the statement prepared, the history read again under the lock.
    let once = ten - 40;
    assert!(
        once <= 9,
        "fixed cost of a run: {once} round trips, 9 when written"
    );
}
