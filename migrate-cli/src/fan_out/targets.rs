//! The databases a fan-out works on, from `--each` (SQLite files by pattern or path),
//! `--each-schema` (the PostgreSQL schemas of `--database` whose names match) or
//! `--each-from` (a file of database URLs and paths, one per line), each with the name
//! it is shown by.

use std::collections::HashSet;
use std::io::BufRead;

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::failure::Failure;
use crate::open;
use crate::url;

/// One database of a fan-out.
#[derive(Clone, Debug)]
pub(crate) struct DatabaseTarget {
    /// How it is shown: the file's path as matched, the schema's name, or the URL
    /// without its password.
    pub(crate) name: String,
    /// Where it is.
    pub(crate) place: Place,
}

/// Where a target is.
#[derive(Clone, Debug)]
pub(crate) enum Place {
    /// A database by URL or path, opened as `--database` would open it.
    Database(url::Url),
    /// A schema of the PostgreSQL database at `url`: its history and its migrations'
    /// unqualified names are in that schema.
    Schema {
        /// The database's URL.
        url: url::Url,
        /// The schema.
        schema: String,
    },
    /// A database that could not be read from the list or the pattern once the run
    /// started (it changed since it was counted): fails with this message.
    Unreadable(String),
}

/// Whether the command line asks for a fan-out.
pub(crate) fn given(sub: &ArgMatches) -> bool {
    ["each", "each-schema", "each-from"]
        .iter()
        .any(|id| sub.try_contains_id(id).unwrap_or(false))
}

/// The databases of a fan-out: counted before the run (for the progress bar, and to
/// refuse a selection of none), then produced one by one as workers take them, so that
/// memory does not grow with their number.
pub(crate) struct Targets {
    /// How many there are.
    pub(crate) total: usize,
    /// Whether any is a SQLite database.
    pub(crate) any_sqlite: bool,
    /// The databases, in the order given (each pattern's matches in the folder's order),
    /// each once.
    pub(crate) iter: Box<dyn Iterator<Item = DatabaseTarget> + Send>,
}

/// The targets the command line names. An empty selection is a usage error: a pattern
/// that matches nothing is more often a typo than a fleet of none.
pub(crate) fn collect(matches: &ArgMatches, sub: &ArgMatches) -> Result<Targets, Failure> {
    let from_command_line = matches.value_source("database") == Some(ValueSource::CommandLine);
    if let Some(schema) = matches.get_one::<String>("schema")
        && sub.contains_id("each-schema")
    {
        return Err(Failure::Usage(format!(
            "--schema {schema} names one schema, and --each-schema names the schemas to \
             migrate, each keeping its history in itself: drop --schema"
        )));
    }
    if let Some(patterns) = sub.get_many::<String>("each") {
        if from_command_line {
            return Err(database_too("--each"));
        }
        files(patterns.cloned().collect())
    } else if let Some(list) = sub.get_one::<String>("each-from") {
        if from_command_line {
            return Err(database_too("--each-from"));
        }
        listed(list)
    } else if let Some(pattern) = sub.get_one::<String>("each-schema") {
        schemas(matches, pattern)
    } else {
        Err(Failure::Usage(
            "name the databases with --each, --each-schema or --each-from".to_owned(),
        ))
    }
}

fn database_too(option: &str) -> Failure {
    Failure::Usage(format!(
        "{option} names the databases to migrate, and --database names one more: drop \
         --database (a DATABASE_URL in the environment is ignored with {option})"
    ))
}

/// Keeps the first of each name, remembering only the names that occur more than once
/// (found while counting): nothing for the usual fleet without repeats.
fn first_of_each(repeated: HashSet<String>) -> impl FnMut(&DatabaseTarget) -> bool + Send {
    let mut seen = HashSet::new();
    move |target| !repeated.contains(&target.name) || seen.insert(target.name.clone())
}

/// How many different names `names` has, and those that occur more than once (several
/// patterns, or a list, may repeat a database; a single pattern cannot). The check holds
/// every name once while it counts, before the run.
fn repeats(names: impl Iterator<Item = String>) -> (usize, HashSet<String>) {
    let mut seen = HashSet::new();
    let mut repeated = HashSet::new();
    for name in names {
        if !seen.insert(name.clone()) {
            repeated.insert(name);
        }
    }
    (seen.len(), repeated)
}

/// `--each`: SQLite files. A pattern (`*`, `?`, `[..]`) matches files, directories and
/// SQLite's own files (`-journal`, `-wal`, `-shm`) left out; a plain path is that file,
/// which `up` creates if missing.
fn files(patterns: Vec<String>) -> Result<Targets, Failure> {
    // Counted (and checked) first: a pattern that is not one, or matches nothing, or a
    // folder that cannot be read, stops the command before anything is opened.
    let several = patterns.len() > 1;
    let (mut count, mut names) = (0, Vec::new());
    for pattern in &patterns {
        let before = count;
        for path in matched(pattern)? {
            let path = path.map_err(|error| {
                Failure::Run(format!("--each {pattern:?}: could not read {error}").into())
            })?;
            let target = sqlite_target(&path)?;
            count += 1;
            if several {
                names.push(target.name);
            }
        }
        if count == before {
            return Err(Failure::Usage(format!(
                "--each {pattern:?} matches no file; check the pattern (relative to the \
                 current directory, {})",
                std::env::current_dir()
                    .map_or_else(|_| "?".to_owned(), |d| d.display().to_string())
            )));
        }
    }
    let (total, repeated) = if several {
        repeats(names.into_iter())
    } else {
        (count, HashSet::new())
    };
    let iter = patterns
        .into_iter()
        .flat_map(|pattern| {
            let paths: Box<dyn Iterator<Item = Result<String, String>> + Send> =
                match matched(&pattern) {
                    Ok(paths) => paths,
                    Err(_) => Box::new(std::iter::empty()),
                };
            paths.map(move |path| {
                match path.map_err(|e| (e, None)).and_then(|path| {
                    sqlite_target(&path).map_err(|failure| (describe(failure), Some(path)))
                }) {
                    Ok(target) => target,
                    Err((message, path)) => DatabaseTarget {
                        name: path.unwrap_or_else(|| pattern.clone()),
                        place: Place::Unreadable(message),
                    },
                }
            })
        })
        .filter(first_of_each(repeated));
    Ok(Targets {
        total,
        any_sqlite: true,
        iter: Box::new(iter),
    })
}

/// The files `pattern` names: a plain path, or the pattern's matches without
/// directories and SQLite's own files; a match that cannot be read as its error. A
/// pattern whose wildcards are all in its last part (`tenants/*.db`) is matched while
/// the folder is read, in the folder's order, holding no list of its files; any other
/// (`tenants/*/app.db`) through the `glob` crate, sorted by name.
fn matched(
    pattern: &str,
) -> Result<Box<dyn Iterator<Item = Result<String, String>> + Send>, Failure> {
    const WILD: [char; 3] = ['*', '?', '['];
    if !pattern.contains(WILD) {
        return Ok(Box::new(std::iter::once(Ok(pattern.to_owned()))));
    }
    let not_a_pattern = |msg: &str| {
        Failure::Usage(format!(
            "--each {pattern:?} is not a file pattern: {msg}; write a path with `*` for any \
             name, `?` for one character, `[..]` for one of several (e.g. 'tenants/*.db', \
             quoted so that the shell leaves it alone)"
        ))
    };
    let (folder, last) = match pattern.rsplit_once('/') {
        Some((folder, last)) => (Some(folder), last),
        None => (None, pattern),
    };
    if folder.is_none_or(|folder| !folder.contains(WILD)) {
        let matcher = glob::Pattern::new(last).map_err(|error| not_a_pattern(error.msg))?;
        let options = glob::MatchOptions {
            // As the shell: `*` does not match a leading dot.
            require_literal_leading_dot: true,
            ..glob::MatchOptions::new()
        };
        let dir = match folder {
            Some("") => "/",
            Some(folder) => folder,
            None => ".",
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            // As the glob crate: a folder that is not there matches nothing.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Box::new(std::iter::empty()));
            }
            Err(error) => {
                return Err(Failure::Run(
                    format!("--each {pattern:?}: could not read the folder {dir}: {error}").into(),
                ));
            }
        };
        let prefix = folder.map(|folder| format!("{folder}/"));
        return Ok(Box::new(entries.filter_map(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => return Some(Err(error.to_string())),
            };
            let name = entry.file_name();
            let name = name.to_str()?;
            if !matcher.matches_with(name, options) || is_companion(name) {
                return None;
            }
            let path = match &prefix {
                Some(prefix) => format!("{prefix}{name}"),
                None => name.to_owned(),
            };
            (!std::path::Path::new(&path).is_dir()).then_some(Ok(path))
        })));
    }
    let paths = glob::glob(pattern).map_err(|error| not_a_pattern(error.msg))?;
    Ok(Box::new(paths.filter_map(|path| match path {
        Err(error) => Some(Err(error.to_string())),
        Ok(path) => {
            let companion = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_companion);
            (!path.is_dir() && !companion).then(|| Ok(path.to_string_lossy().into_owned()))
        }
    })))
}

/// Whether `name` is one of the files SQLite keeps beside a database (its rollback
/// journal, its write-ahead log and its index), which match `tenants/*` too and are not
/// databases.
fn is_companion(name: &str) -> bool {
    SQLITE_COMPANIONS.iter().any(|s| name.ends_with(s))
}

/// A failure's message, for a target that turned unreadable between the count and the run.
fn describe(failure: Failure) -> String {
    match failure {
        Failure::Usage(message) => message,
        Failure::Run(error) => error.to_string(),
    }
}

/// The endings of the files SQLite keeps beside a database.
const SQLITE_COMPANIONS: [&str; 3] = ["-journal", "-wal", "-shm"];

fn sqlite_target(path: &str) -> Result<DatabaseTarget, Failure> {
    match url::parse(path).map_err(Failure::Usage)? {
        place @ url::Url::Sqlite(_) => Ok(DatabaseTarget {
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

/// One line of a list: `None` for a blank line or a comment.
fn list_line(list: &str, number: usize, line: &str) -> Option<Result<DatabaseTarget, String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    Some(
        url::parse(line)
            .map(|place| DatabaseTarget {
                name: url::redact(line),
                place: Place::Database(place),
            })
            .map_err(|message| format!("--each-from {list}, line {number}: {message}")),
    )
}

/// `--each-from FILE` (`-`: standard input): one database URL or SQLite path per line;
/// blank lines and lines starting with `#` are left out. The file is read twice: once to
/// check and count, then line by line as workers take them; standard input, which cannot
/// be read twice, is kept.
fn listed(list: &str) -> Result<Targets, Failure> {
    let stdin = if list == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(
            |error| Failure::Run(format!("--each-from -: could not read it: {error}").into()),
        )?;
        Some(text)
    } else {
        None
    };
    let open = || -> Result<Box<dyn BufRead + Send>, Failure> {
        if let Some(text) = &stdin {
            return Ok(Box::new(std::io::Cursor::new(text.clone())));
        }
        let file = std::fs::File::open(list).map_err(|error| {
            Failure::Usage(format!(
                "--each-from {list}: cannot open it ({error}); give a file with one database \
                 URL or path per line, or - for standard input"
            ))
        })?;
        Ok(Box::new(std::io::BufReader::new(file)))
    };
    let mut first = open()?;
    let mut names = Vec::new();
    let mut any_sqlite = false;
    let mut text = String::new();
    let mut number = 0;
    loop {
        text.clear();
        number += 1;
        let read = first.read_line(&mut text).map_err(|error| {
            Failure::Run(
                format!("--each-from {list}: could not read line {number}: {error}").into(),
            )
        })?;
        if read == 0 {
            break;
        }
        if let Some(target) = list_line(list, number, &text) {
            let target = target.map_err(Failure::Usage)?;
            any_sqlite |= matches!(target.place, Place::Database(url::Url::Sqlite(_)));
            names.push(target.name);
        }
    }
    if names.is_empty() {
        return Err(Failure::Usage(format!(
            "--each-from {list} lists no database: write one URL or path per line"
        )));
    }
    let (total, repeated) = repeats(names.into_iter());
    let second = open()?;
    let list = list.to_owned();
    let iter = second
        .lines()
        .enumerate()
        .filter_map(move |(index, line)| match line {
            Ok(line) => list_line(&list, index + 1, &line).map(|target| {
                target.unwrap_or_else(|message| DatabaseTarget {
                    name: format!("{list}, line {}", index + 1),
                    place: Place::Unreadable(message),
                })
            }),
            Err(error) => Some(DatabaseTarget {
                name: format!("{list}, line {}", index + 1),
                place: Place::Unreadable(format!("could not read it: {error}")),
            }),
        })
        .filter(first_of_each(repeated));
    Ok(Targets {
        total,
        any_sqlite,
        iter: Box::new(iter),
    })
}

/// `--each-schema PATTERN`: the schemas of the PostgreSQL database `--database` names
/// whose names match (`*` any characters, `?` one), sorted by name; PostgreSQL's own
/// (`pg_*`, `information_schema`) never. Counted first, then listed a page at a time as
/// workers take them.
fn schemas(matches: &ArgMatches, pattern: &str) -> Result<Targets, Failure> {
    if !url::BUILT_IN.postgres {
        return Err(Failure::Usage(
            "--each-schema selects PostgreSQL schemas, and this build of the `migrate` \
             command has no PostgreSQL backend: enable the migrate-cli feature `postgres`"
                .to_owned(),
        ));
    }
    let Some(given) = matches.get_one::<String>("database") else {
        return Err(Failure::Usage(
            "--each-schema needs the PostgreSQL database that holds the schemas: pass \
             --database postgres://user@host/db or set DATABASE_URL"
                .to_owned(),
        ));
    };
    let database = url::parse(given).map_err(Failure::Usage)?;
    if let url::Url::Sqlite(_) = database {
        return Err(Failure::Usage(format!(
            "--each-schema selects PostgreSQL schemas, and the database {given} is a \
             SQLite one: for SQLite files, use --each 'PATTERN'"
        )));
    }
    let (total, names) = open::schemas(&database, pattern)?;
    if total == 0 {
        return Err(Failure::Usage(format!(
            "--each-schema {pattern:?} matches no schema of {}; check the pattern (`*` any \
             characters, `?` one) and the database",
            url::redact(given)
        )));
    }
    let iter = names.map(move |name| match name {
        Ok(schema) => DatabaseTarget {
            name: schema.clone(),
            place: Place::Schema {
                url: database.clone(),
                schema,
            },
        },
        Err(message) => DatabaseTarget {
            name: "(the list of schemas)".to_owned(),
            place: Place::Unreadable(message),
        },
    });
    Ok(Targets {
        total,
        any_sqlite: false,
        iter: Box::new(iter),
    })
}
