//! `--database` and `DATABASE_URL`: a SQLite file path, or a SQLite URL read the way sqlx
//! reads one (`sqlite://app.db?mode=ro`). Other schemes are refused by name, and a
//! password in a URL never reaches a message.

/// How the URL asks for the database to be opened: its `?mode=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `mode=ro`: read-only; commands that write refuse.
    ReadOnly,
    /// `mode=rw`: read and write, never create the file.
    ReadWrite,
    /// `mode=rwc`: read and write, create the file if it is missing.
    ReadWriteCreate,
    /// `mode=memory`: an in-memory database, whatever the path.
    Memory,
}

/// Where the database is, and how to open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// The file, percent-decoded; `:memory:` for an in-memory database.
    pub path: String,
    /// The URL's `?mode=`, when it has one.
    pub mode: Option<Mode>,
}

impl Database {
    pub fn is_memory(&self) -> bool {
        self.mode == Some(Mode::Memory) || self.path == ":memory:"
    }
}

/// Schemes of servers this build cannot migrate, with the name to show.
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

/// Reads `--database` / `DATABASE_URL`. The error is one line for the user, with any
/// password replaced by `***`.
pub fn parse(url: &str) -> Result<Database, String> {
    if url.trim().is_empty() {
        return Err(
            "the database is empty: give a SQLite file, e.g. --database app.db or \
             DATABASE_URL=sqlite://app.db"
                .to_owned(),
        );
    }
    let Some((scheme, rest)) = split_scheme(url) else {
        // A plain path is a path: no query, no percent-decoding.
        return Ok(Database {
            path: url.to_owned(),
            mode: None,
        });
    };
    let lower = scheme.to_ascii_lowercase();
    if lower != "sqlite" && lower != "file" {
        let kind = SERVER_SCHEMES
            .iter()
            .find(|(name, _)| *name == lower)
            .map_or_else(
                || format!("a `{scheme}:` URL"),
                |(_, kind)| format!("a {kind} URL"),
            );
        return Err(format!(
            "{} is {kind}, but this build of the `migrate` command supports SQLite only: \
             give a SQLite file (--database app.db, or DATABASE_URL=sqlite://app.db); \
             another database needs a migrate backend for it built into this command",
            redact(url)
        ));
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
    Ok(Database { path, mode })
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
pub fn redact(url: &str) -> String {
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

    fn ok(url: &str) -> (String, Option<Mode>) {
        let db = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
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
        assert!(parse("sqlite::memory:").unwrap().is_memory());
        assert!(parse("sqlite://:memory:").unwrap().is_memory());
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
        assert!(parse("sqlite://q.db?mode=memory").unwrap().is_memory());
        let error = parse("sqlite://q.db?mode=wr").unwrap_err();
        assert!(
            error.contains("mode=wr") && error.contains("rwc"),
            "{error}"
        );
    }

    #[test]
    fn unknown_parameters_are_refused_by_name() {
        let error = parse("sqlite://q.db?cache=shared").unwrap_err();
        assert!(error.contains("`cache`"), "{error}");
        let error = parse("sqlite://q.db?mode=ro&journal=wal").unwrap_err();
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
        assert!(parse("sqlite://%FF.db").is_err());
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
            assert!(parse(url).is_err(), "{url:?} was accepted");
        }
    }

    #[test]
    fn other_schemes_are_refused_without_their_password() {
        for (url, kind) in [
            ("postgres://user:hunter2@host/db", "PostgreSQL"),
            (
                "postgresql://u:hunter2@h:5432/db?sslmode=require",
                "PostgreSQL",
            ),
            ("mysql://root:hunter2@localhost/app", "MySQL"),
            ("mariadb://root:hunter2@localhost/app", "MariaDB"),
            ("mongodb+srv://a:hunter2@cluster/x", "`mongodb+srv:`"),
        ] {
            let error = parse(url).unwrap_err();
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.contains("***"), "{error}");
            assert!(
                error.contains(kind) && error.contains("SQLite only"),
                "{error}"
            );
        }
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
    }
}
