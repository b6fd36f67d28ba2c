//! The databases a fan-out works on, from `--each` (SQLite files by pattern or path),
//! `--each-schema` (the PostgreSQL schemas of `--database` whose names match) or
//! `--each-from` (a file of database URLs and paths, one per line), each with the name
//! it is shown by.

use std::io::BufRead;

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::commands::Failure;
use crate::url;

/// One database of a fan-out.
#[derive(Clone, Debug)]
pub struct Target {
    /// How it is shown: the file's path as matched, the schema's name, or the URL
    /// without its password.
    pub name: String,
    /// Where it is.
    pub place: Place,
}

/// Where a target is.
#[derive(Clone, Debug)]
pub enum Place {
    /// A database by URL or path, opened as `--database` would open it.
    Database(url::Url),
    /// A schema of the PostgreSQL database at `url`: its history and its migrations'
    /// unqualified names are in that schema.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Schema {
        /// The database's URL.
        url: String,
        /// The schema.
        schema: String,
    },
}

/// Whether the command line asks for a fan-out.
pub fn given(sub: &ArgMatches) -> bool {
    ["each", "each-schema", "each-from"]
        .iter()
        .any(|id| sub.try_contains_id(id).unwrap_or(false))
}

/// The targets the command line names, deduplicated, in the order given (each pattern's
/// matches sorted by name). An empty selection is a usage error: a pattern that matches
/// nothing is more often a typo than a fleet of none.
pub fn collect(matches: &ArgMatches, sub: &ArgMatches) -> Result<Vec<Target>, Failure> {
    let from_command_line = matches.value_source("database") == Some(ValueSource::CommandLine);
    if let Some(schema) = matches.get_one::<String>("schema")
        && sub.contains_id("each-schema")
    {
        return Err(Failure::Usage(format!(
            "--schema {schema} names one schema, and --each-schema names the schemas to \
             migrate, each keeping its history in itself: drop --schema"
        )));
    }
    let targets = if let Some(patterns) = sub.get_many::<String>("each") {
        if from_command_line {
            return Err(database_too("--each"));
        }
        files(patterns.map(String::as_str))?
    } else if let Some(list) = sub.get_one::<String>("each-from") {
        if from_command_line {
            return Err(database_too("--each-from"));
        }
        listed(list)?
    } else if let Some(pattern) = sub.get_one::<String>("each-schema") {
        schemas(matches, pattern)?
    } else {
        Vec::new()
    };
    let mut seen = std::collections::HashSet::new();
    Ok(targets
        .into_iter()
        .filter(|t| seen.insert(t.name.clone()))
        .collect())
}

fn database_too(option: &str) -> Failure {
    Failure::Usage(format!(
        "{option} names the databases to migrate, and --database names one more: drop \
         --database (a DATABASE_URL in the environment is ignored with {option})"
    ))
}

/// `--each`: SQLite files. A pattern (`*`, `?`, `[..]`) matches files, sorted by name,
/// directories and SQLite's own files (`-journal`, `-wal`, `-shm`) left out; a plain path
/// is that file, which `up` creates if missing.
fn files<'a>(patterns: impl Iterator<Item = &'a str>) -> Result<Vec<Target>, Failure> {
    let mut targets = Vec::new();
    for pattern in patterns {
        if !pattern.contains(['*', '?', '[']) {
            targets.push(sqlite_target(pattern)?);
            continue;
        }
        let paths = glob::glob(pattern).map_err(|error| {
            Failure::Usage(format!(
                "--each {pattern:?} is not a file pattern: {}; write a path with `*` for \
                 any name, `?` for one character, `[..]` for one of several (e.g. \
                 'tenants/*.db', quoted so that the shell leaves it alone)",
                error.msg
            ))
        })?;
        let before = targets.len();
        for path in paths {
            let path = path.map_err(|error| {
                Failure::Run(format!("--each {pattern:?}: could not read {error}").into())
            })?;
            // SQLite's own files beside a database (its rollback journal, its write-ahead
            // log and its index) match `tenants/*` too, and are not databases.
            let companion = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| SQLITE_COMPANIONS.iter().any(|s| name.ends_with(s)));
            if path.is_dir() || companion {
                continue;
            }
            targets.push(sqlite_target(&path.to_string_lossy())?);
        }
        if targets.len() == before {
            return Err(Failure::Usage(format!(
                "--each {pattern:?} matches no file; check the pattern (relative to the \
                 current directory, {})",
                std::env::current_dir()
                    .map_or_else(|_| "?".to_owned(), |d| d.display().to_string())
            )));
        }
    }
    Ok(targets)
}

/// The endings of the files SQLite keeps beside a database.
const SQLITE_COMPANIONS: [&str; 3] = ["-journal", "-wal", "-shm"];

fn sqlite_target(path: &str) -> Result<Target, Failure> {
    match url::parse(path).map_err(Failure::Usage)? {
        place @ url::Url::Sqlite(_) => Ok(Target {
            name: path.to_owned(),
            place: Place::Database(place),
        }),
        url::Url::Postgres(_) => Err(Failure::Usage(format!(
            "--each takes SQLite files, and {} is a PostgreSQL URL: for schemas, give the \
             database with --database and the schemas with --each-schema; for a list of \
             URLs, --each-from FILE",
            url::redact(path)
        ))),
    }
}

/// `--each-from FILE` (`-`: standard input): one database URL or SQLite path per line;
/// blank lines and lines starting with `#` are left out.
fn listed(list: &str) -> Result<Vec<Target>, Failure> {
    let reader: Box<dyn BufRead> = if list == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(list).map_err(|error| {
            Failure::Usage(format!(
                "--each-from {list}: cannot open it ({error}); give a file with one database \
                 URL or path per line, or - for standard input"
            ))
        })?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut targets = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|error| {
            Failure::Run(
                format!(
                    "--each-from {list}: could not read line {}: {error}",
                    index + 1
                )
                .into(),
            )
        })?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let place = url::parse(line).map_err(|message| {
            Failure::Usage(format!("--each-from {list}, line {}: {message}", index + 1))
        })?;
        targets.push(Target {
            name: url::redact(line),
            place: Place::Database(place),
        });
    }
    if targets.is_empty() {
        return Err(Failure::Usage(format!(
            "--each-from {list} lists no database: write one URL or path per line"
        )));
    }
    Ok(targets)
}

/// `--each-schema PATTERN`: the schemas of the PostgreSQL database `--database` names
/// whose names match (`*` any characters, `?` one), sorted by name; PostgreSQL's own
/// (`pg_*`, `information_schema`) never.
#[cfg(feature = "postgres")]
fn schemas(matches: &ArgMatches, pattern: &str) -> Result<Vec<Target>, Failure> {
    let Some(given) = matches.get_one::<String>("database") else {
        return Err(Failure::Usage(
            "--each-schema needs the PostgreSQL database that holds the schemas: pass \
             --database postgres://user@host/db or set DATABASE_URL"
                .to_owned(),
        ));
    };
    let url = match url::parse(given).map_err(Failure::Usage)? {
        url::Url::Postgres(url) => url,
        url::Url::Sqlite(_) => {
            return Err(Failure::Usage(format!(
                "--each-schema selects PostgreSQL schemas, and the database {given} is a \
                 SQLite one: for SQLite files, use --each 'PATTERN'"
            )));
        }
    };
    let mut db = migrate_postgres::Postgres::connect(&url)?;
    let like = like_pattern(pattern);
    let rows = db
        .connection()
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1 \
             AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' \
             ORDER BY nspname",
            &[&like],
        )
        .map_err(|source| migrate_core::Error::Database {
            action: "list the schemas of the database (pg_namespace)".to_owned(),
            source: Box::new(source),
        })?;
    if rows.is_empty() {
        return Err(Failure::Usage(format!(
            "--each-schema {pattern:?} matches no schema of {}; check the pattern (`*` any \
             characters, `?` one) and the database",
            url::redact(&url)
        )));
    }
    Ok(rows
        .iter()
        .map(|row| {
            let schema: String = row.get(0);
            Target {
                name: schema.clone(),
                place: Place::Schema {
                    url: url.clone(),
                    schema,
                },
            }
        })
        .collect())
}

#[cfg(not(feature = "postgres"))]
fn schemas(_matches: &ArgMatches, _pattern: &str) -> Result<Vec<Target>, Failure> {
    Err(Failure::Usage(
        "--each-schema selects PostgreSQL schemas, and this build of the `migrate` command \
         has no PostgreSQL backend: enable the migrate-cli feature `postgres`"
            .to_owned(),
    ))
}

/// A `*`/`?` pattern as SQL `LIKE` (escape character `\`, the default).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn like_pattern(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            c => like.push(c),
        }
    }
    like
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn schema_patterns_become_like_patterns() {
        assert_eq!(like_pattern("tenant_*"), "tenant\\_%");
        assert_eq!(like_pattern("t?x"), "t_x");
        assert_eq!(like_pattern("100%\\"), "100\\%\\\\");
    }
}
