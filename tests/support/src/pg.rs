//! The PostgreSQL server the tests use, and a schema of its own for each test.
//!
//! The server comes from `MIGRATE_TEST_POSTGRES` (a connection string), by default
//! `host=127.0.0.1 port=5432 user=postgres dbname=test`. Without a server the tests pass
//! and say on the terminal that they did not run, unless `MIGRATE_REQUIRE_POSTGRES=1`
//! (set by `.ci/run`), which makes an absent server a failure.

use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use migrate_postgres::postgres::{Client, NoTls};

/// The server's connection string.
pub fn server() -> String {
    std::env::var("MIGRATE_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".to_owned())
}

/// The test server as a `postgres://` URL (the command line's form; `server()` is
/// `key=value`), with `password` when given and `query` (`?...`) appended.
pub fn server_url(password: Option<&str>, query: &str) -> String {
    use migrate_postgres::postgres::Config;
    use migrate_postgres::postgres::config::Host;
    let config: Config = server().parse().expect("the test server's string");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let password = password.map_or_else(String::new, |p| format!(":{p}"));
    let dbname = config.get_dbname().unwrap_or("postgres");
    format!("postgres://{user}{password}@{host}:{port}/{dbname}{query}")
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
    /// The schema's name, unique to the test and the process.
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

/// A PgBouncer of the test's own, in transaction mode, in front of the test server,
/// whose server connections start in `schema` (`connect_query`); stopped on drop.
pub struct PgBouncer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    /// `None` (the test returns early, saying so) when there is no server or no
    /// `pgbouncer`; with `MIGRATE_REQUIRE_POSTGRES=1`, a missing `pgbouncer` fails.
    pub fn start(schema: &str) -> Option<Self> {
        if !available() {
            return None;
        }
        let Some(binary) = [
            "/usr/sbin/pgbouncer",
            "/usr/bin/pgbouncer",
            "/usr/local/bin/pgbouncer",
        ]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists()) else {
            assert!(
                std::env::var("MIGRATE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MIGRATE_REQUIRE_POSTGRES=1 but pgbouncer is not installed (apt-get install pgbouncer)"
            );
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTE: the PgBouncer tests did not run: pgbouncer is not installed \
                 (apt-get install pgbouncer)\n"
            );
            return None;
        };
        let config: migrate_postgres::postgres::Config = server().parse().expect("server");
        let host = match config.get_hosts().first() {
            Some(migrate_postgres::postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let server_port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres").to_owned();
        let dbname = config.get_dbname().unwrap_or("test").to_owned();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = tempfile::tempdir().expect("a directory for pgbouncer");
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("users.txt"), format!("\"{user}\" \"\"\n")).unwrap();
        std::fs::write(
            path("pgbouncer.ini"),
            format!(
                "[databases]\n{dbname} = host={host} port={server_port} dbname={dbname} \
                 user={user} connect_query='SET search_path TO {schema}'\n\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 auth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
                 default_pool_size = 20\nmax_client_conn = 200\nunix_socket_dir =\n\
                 logfile = {log}\nignore_startup_parameters = extra_float_digits\n",
                users = path("users.txt").display(),
                log = path("pgbouncer.log").display(),
            ),
        )
        .unwrap();
        let mut command = std::process::Command::new(binary);
        // pgbouncer refuses to run as root: as nobody, with files it can read and write.
        if std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            command.args(["-u", "nobody"]);
        }
        let child = command
            .arg(path("pgbouncer.ini"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        let bouncer = PgBouncer {
            port,
            child,
            _dir: dir,
        };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "pgbouncer did not start listening on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Some(bouncer)
    }

    /// A connection string through this PgBouncer.
    pub fn url(&self) -> String {
        let config: migrate_postgres::postgres::Config = server().parse().expect("server");
        format!(
            "host=127.0.0.1 port={} user={} dbname={}",
            self.port,
            config.get_user().unwrap_or("postgres"),
            config.get_dbname().unwrap_or("test")
        )
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
