//! `--database` and `DATABASE_URL`: its scheme picks the backend. A SQLite file path, or
//! a SQLite URL read the way sqlx reads one (`sqlite://app.db?mode=ro`); a PostgreSQL URL
//! (`postgres://`, `postgresql://`), which the driver reads. A backend not built in, and
//! other schemes, are refused by name, and a password in a URL never reaches a message.

/// How the URL asks for the database to be opened: its `?mode=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `mode=ro`: read-only; commands that write refuse.
    ReadOnly,
    /// `mode=rw`: read and write, never create the file.
    ReadWrite,
    /// `mode=rwc`: read and write, create the file if it is missing.
    ReadWriteCreate,
    /// `mode=memory`: an in-memory database, whatever the path.
    Memory,
}

/// Where a SQLite database is, and how to open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SqliteFile {
    /// The file, percent-decoded; `:memory:` for an in-memory database.
    pub(crate) path: String,
    /// The URL's `?mode=`, when it has one.
    pub(crate) mode: Option<Mode>,
}

impl SqliteFile {
    pub(crate) fn is_memory(&self) -> bool {
        self.mode == Some(Mode::Memory) || self.path == ":memory:"
    }
}

/// The database a URL names, by backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Url {
    /// A file path or a `sqlite:` / `file:` URL.
    Sqlite(SqliteFile),
    /// A `postgres://` or `postgresql://` URL, as given (the driver reads it).
    Postgres(String),
}

/// Which backends this build has: its features.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backends {
    pub(crate) sqlite: bool,
    pub(crate) postgres: bool,
}

/// The backends of this build.
pub(crate) const BUILT_IN: Backends = Backends {
    sqlite: cfg!(feature = "sqlite"),
    postgres: cfg!(feature = "postgres"),
};

/// Schemes of servers this command cannot migrate, with the name to show.
const SERVER_SCHEMES: &[(&str, &str)] = &[
    ("postgres", "PostgreSQL"),
    ("postgresql", "PostgreSQL"),
    ("mysql", "MySQL"),
    ("mariadb", "MariaDB"),
    ("mssql", "SQL Server"),
    ("sqlserver", "SQL Server"),
    ("libsql", "libSQL"),
    ("redis", "Redis"),
    ("mongodb", "MongoDB"),
];

/// What to give instead of a URL this build cannot use: the backends it has.
fn what_to_give(backends: Backends) -> &'static str {
    match (backends.sqlite, backends.postgres) {
        (true, true) => {
            "give a SQLite file (--database app.db, or DATABASE_URL=sqlite://app.db) or a \
             PostgreSQL URL (DATABASE_URL=postgres://user@host/db)"
        }
        (true, false) => "give a SQLite file (--database app.db, or DATABASE_URL=sqlite://app.db)",
        _ => "give a PostgreSQL URL (--database postgres://user@host/db, or DATABASE_URL)",
    }
}

/// Reads `--database` / `DATABASE_URL` for this build's backends.
pub(crate) fn parse(url: &str) -> Result<Url, String> {
    parse_for(url, BUILT_IN)
}

/// Reads `--database` / `DATABASE_URL` for a build with `backends`. The error is one
/// line for the user, with any password replaced by `***`.
pub(crate) fn parse_for(url: &str, backends: Backends) -> Result<Url, String> {
    if url.trim().is_empty() {
        return Err(format!("the database is empty: {}", what_to_give(backends)));
    }
    let no_sqlite = || {
        format!(
            "{} is a SQLite database, but this build of the `migrate` command has no SQLite \
             backend: enable the feature `sqlite` of migrate-cli (migrate-cli = {{ version = \
             \"0.1\", features = [\"sqlite\"] }}) and build the command again, or {}",
            redact(url),
            what_to_give(backends)
        )
    };
    let Some((scheme, rest)) = split_scheme(url) else {
        if !backends.sqlite {
            return Err(no_sqlite());
        }
        // A plain path is a path: no query, no percent-decoding.
        return Ok(Url::Sqlite(SqliteFile {
            path: url.to_owned(),
            mode: None,
        }));
    };
    let lower = scheme.to_ascii_lowercase();
    if lower == "postgres" || lower == "postgresql" {
        if backends.postgres {
            return Ok(Url::Postgres(url.to_owned()));
        }
        return Err(format!(
            "{} is a PostgreSQL URL, but this build of the `migrate` command has no \
             PostgreSQL backend: enable the feature `postgres` of migrate-cli (migrate-cli = \
             {{ version = \"0.1\", features = [\"postgres\"] }}) and build the command \
             again, or {}",
            redact(url),
            what_to_give(backends)
        ));
    }
    if lower != "sqlite" && lower != "file" {
        let kind = SERVER_SCHEMES
            .iter()
            .find(|(name, _)| *name == lower)
            .map_or_else(
                || format!("a `{scheme}:` URL"),
                |(_, kind)| format!("a {kind} URL"),
            );
        let supported = match (backends.sqlite, backends.postgres) {
            (true, true) => "SQLite and PostgreSQL only",
            (true, false) => "SQLite only",
            _ => "PostgreSQL only",
        };
        return Err(format!(
            "{} is {kind}, but the `migrate` command supports {supported}: {}",
            redact(url),
            what_to_give(backends)
        ));
    }
    if !backends.sqlite {
        return Err(no_sqlite());
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = percent_decode(path).map_err(|()| {
        format!(
            "the path of the database URL {} is not UTF-8 once percent-decoded",
            redact(url)
        )
    })?;
    if path.is_empty() {
        return Err(format!(
            "the database URL {} names no file: write the file after the scheme, e.g. \
             sqlite://app.db (sqlite::memory: for an in-memory database)",
            redact(url)
        ));
    }
    let mut mode = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key).unwrap_or_else(|()| key.to_owned());
        let value = percent_decode(value).unwrap_or_else(|()| value.to_owned());
        match key.as_str() {
            "mode" => {
                mode = Some(match value.as_str() {
                    "ro" => Mode::ReadOnly,
                    "rw" => Mode::ReadWrite,
                    "rwc" => Mode::ReadWriteCreate,
                    "memory" => Mode::Memory,
                    other => {
                        return Err(format!(
                            "the database URL {} has mode={other}; the modes are ro \
                             (read-only), rw (read and write), rwc (create if missing) and \
                             memory",
                            redact(url)
                        ));
                    }
                });
            }
            other => {
                return Err(format!(
                    "the database URL {} has the parameter `{other}`, which the `migrate` \
                     command does not support; it reads only mode=ro|rw|rwc|memory",
                    redact(url)
                ));
            }
        }
    }
    Ok(Url::Sqlite(SqliteFile { path, mode }))
}

/// `(scheme, rest)` for `scheme://rest` or `sqlite:rest` / `file:rest`; `None` for a
/// plain path (a Windows drive letter, `C:\app.db`, is a path).
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let is_scheme = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return None;
    }
    let lower = scheme.to_ascii_lowercase();
    if let Some(rest) = rest.strip_prefix("//") {
        return Some((scheme, rest));
    }
    let known = lower == "sqlite"
        || lower == "file"
        || SERVER_SCHEMES.iter().any(|(name, _)| *name == lower);
    known.then_some((scheme, rest))
}

/// `url` with the password of `scheme://user:password@host` replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let authority = &url[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!("{}***{}", &url[..start + colon + 1], &url[start + at..])
}

/// `%XX` decoded, as sqlx (percent-encoding) does: a `%` not followed by two hex digits
/// stays as it is. `Err` when the bytes are not UTF-8.
fn percent_decode(text: &str) -> Result<String, ()> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Backends = Backends {
        sqlite: true,
        postgres: true,
    };

    fn sqlite(url: &str) -> Result<SqliteFile, String> {
        match parse_for(url, BOTH)? {
            Url::Sqlite(file) => Ok(file),
            other => panic!("{url}: {other:?}"),
        }
    }

    fn ok(url: &str) -> (String, Option<Mode>) {
        let db = sqlite(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (db.path, db.mode)
    }

    #[test]
    fn paths_and_schemes() {
        assert_eq!(ok("app.db"), ("app.db".into(), None));
        assert_eq!(ok("/tmp/a b.db"), ("/tmp/a b.db".into(), None));
        assert_eq!(ok("sqlite://app.db"), ("app.db".into(), None));
        assert_eq!(ok("sqlite:///tmp/app.db"), ("/tmp/app.db".into(), None));
        assert_eq!(ok("sqlite:app.db"), ("app.db".into(), None));
        assert_eq!(ok("file:app.db"), ("app.db".into(), None));
        assert_eq!(ok("file:///tmp/app.db"), ("/tmp/app.db".into(), None));
        assert_eq!(ok("SQLITE://app.db"), ("app.db".into(), None));
        assert!(sqlite("sqlite::memory:").unwrap().is_memory());
        assert!(sqlite("sqlite://:memory:").unwrap().is_memory());
        assert_eq!(ok(r"C:\data\app.db"), (r"C:\data\app.db".into(), None));
        // A plain path keeps its question mark: only a URL has a query.
        assert_eq!(ok("odd?name.db"), ("odd?name.db".into(), None));
    }

    #[test]
    fn modes() {
        assert_eq!(
            ok("file:x.db?mode=ro"),
            ("x.db".into(), Some(Mode::ReadOnly))
        );
        assert_eq!(
            ok("sqlite://q.db?mode=rwc"),
            ("q.db".into(), Some(Mode::ReadWriteCreate))
        );
        assert_eq!(
            ok("sqlite://q.db?mode=rw"),
            ("q.db".into(), Some(Mode::ReadWrite))
        );
        assert!(sqlite("sqlite://q.db?mode=memory").unwrap().is_memory());
        let error = sqlite("sqlite://q.db?mode=wr").unwrap_err();
        assert!(
            error.contains("mode=wr") && error.contains("rwc"),
            "{error}"
        );
    }

    #[test]
    fn unknown_parameters_are_refused_by_name() {
        let error = sqlite("sqlite://q.db?cache=shared").unwrap_err();
        assert!(error.contains("`cache`"), "{error}");
        let error = sqlite("sqlite://q.db?mode=ro&journal=wal").unwrap_err();
        assert!(error.contains("`journal`"), "{error}");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(ok("sqlite://my%20app.db"), ("my app.db".into(), None));
        assert_eq!(ok("sqlite://caf%C3%A9.db"), ("café.db".into(), None));
        assert_eq!(ok("sqlite://100%.db"), ("100%.db".into(), None));
        assert_eq!(
            ok("sqlite://q.db?mode=r%6F"),
            ("q.db".into(), Some(Mode::ReadOnly))
        );
        assert!(sqlite("sqlite://%FF.db").is_err());
    }

    #[test]
    fn empty_is_refused() {
        for url in [
            "",
            "  ",
            "sqlite://",
            "sqlite:",
            "file:",
            "sqlite://?mode=rwc",
        ] {
            assert!(parse_for(url, BOTH).is_err(), "{url:?} was accepted");
        }
    }

    #[test]
    fn other_schemes_are_refused_without_their_password() {
        for (url, kind) in [
            ("mysql://root:hunter2@localhost/app", "MySQL"),
            ("mariadb://root:hunter2@localhost/app", "MariaDB"),
            ("mongodb+srv://a:hunter2@cluster/x", "`mongodb+srv:`"),
        ] {
            let error = parse_for(url, BOTH).unwrap_err();
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.contains("***"), "{error}");
            assert!(
                error.contains(kind) && error.contains("SQLite and PostgreSQL only"),
                "{error}"
            );
        }
    }

    #[test]
    fn postgres_urls_pick_postgres() {
        for url in [
            "postgres://user:hunter2@host/db",
            "postgresql://u:hunter2@h:5432/db?sslmode=require",
            "POSTGRES://u@h/db",
        ] {
            assert_eq!(parse_for(url, BOTH), Ok(Url::Postgres(url.to_owned())));
        }
    }

    /// A build without a backend refuses its URLs naming the feature to enable, without
    /// the password.
    #[test]
    fn a_backend_not_built_in_is_named_with_its_feature() {
        let sqlite_only = Backends {
            sqlite: true,
            postgres: false,
        };
        for url in [
            "postgres://user:hunter2@host/db",
            "postgresql://u:hunter2@h:5432/db?sslmode=require",
        ] {
            let error = parse_for(url, sqlite_only).unwrap_err();
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.contains("***"), "{error}");
            assert!(
                error.contains("PostgreSQL") && error.contains("feature `postgres` of migrate-cli"),
                "{error}"
            );
        }
        let postgres_only = Backends {
            sqlite: false,
            postgres: true,
        };
        for url in ["app.db", "sqlite://app.db", "file:app.db"] {
            let error = parse_for(url, postgres_only).unwrap_err();
            assert!(error.contains("feature `sqlite` of migrate-cli"), "{error}");
        }
        let error = parse_for("mysql://root:hunter2@localhost/app", postgres_only).unwrap_err();
        assert!(
            error.contains("PostgreSQL only") && !error.contains("hunter2"),
            "{error}"
        );
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
    }
}
