//! The PostgreSQL server the tests use, and a schema of its own for each test.
//!
//! The server comes from `MIGRATE_TEST_POSTGRES` (a connection string), by default
//! `host=127.0.0.1 port=5432 user=postgres dbname=test`. Without a server the tests pass
//! and say on the terminal that they did not run, unless `MIGRATE_REQUIRE_POSTGRES=1`
//! (set by `.ci/run`), which makes an absent server a failure.

#![allow(dead_code)]

use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use migrate_postgres::postgres::{Client, NoTls};

/// The server's connection string.
pub fn server() -> String {
    std::env::var("MIGRATE_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".to_owned())
}

/// Whether the server answers; when it does not, says so once, where the terminal shows
/// it (not through the captured output of a passing test), or fails when it is required.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| match Client::connect(&server(), NoTls) {
        Ok(_) => true,
        Err(error) => {
            assert!(
                std::env::var("MIGRATE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MIGRATE_REQUIRE_POSTGRES=1 but no PostgreSQL server at `{}`: {error}",
                server()
            );
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTE: the PostgreSQL tests did not run: no server at `{}` ({error}); set \
                 MIGRATE_TEST_POSTGRES to a server's connection string to run them\n",
                server()
            );
            false
        }
    })
}

/// A schema of the test's own, dropped at the end, and connection strings whose
/// `search_path` starts with it.
pub struct TestSchema {
    pub name: String,
    admin: Client,
}

impl TestSchema {
    /// `None` (the test returns early) when there is no server.
    pub fn new(test: &str) -> Option<Self> {
        if !available() {
            return None;
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t_{test}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = Client::connect(&server(), NoTls).expect("connect to the test server");
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .expect("create the test's schema");
        Some(TestSchema { name, admin })
    }

    /// A connection string whose `search_path` is this schema.
    pub fn url(&self) -> String {
        format!("{} options='-c search_path={}'", server(), self.name)
    }

    /// A plain client on this schema, for checks and for holding locks.
    pub fn client(&self) -> Client {
        Client::connect(&self.url(), NoTls).expect("connect to the test schema")
    }

    /// The admin connection (search_path not set).
    pub fn admin(&mut self) -> &mut Client {
        &mut self.admin
    }

    /// Whether `table` exists in this schema.
    pub fn has_table(&mut self, table: &str) -> bool {
        let name = self.name.clone();
        self.admin
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND \
                 table_name = $2",
                &[&name, &table],
            )
            .map(|row| row.get::<_, i64>(0) == 1)
            .expect("read the catalog")
    }

    /// Whether a session of this database is running a statement that sleeps (a
    /// migration holding the lock, in the crash tests).
    pub fn has_table_in_progress(&mut self) -> bool {
        self.admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' \
                 AND state = 'active' AND pid <> pg_backend_pid()",
                &[],
            )
            .map(|row| row.get::<_, i64>(0) > 0)
            .unwrap_or(false)
    }

    /// The versions in this schema's history table, in order.
    pub fn versions(&mut self) -> Vec<i64> {
        let sql = format!(
            "SELECT version FROM {}.migrate_history ORDER BY version",
            self.name
        );
        self.admin
            .query(&sql, &[])
            .map(|rows| rows.iter().map(|row| row.get(0)).collect())
            .unwrap_or_default()
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}
