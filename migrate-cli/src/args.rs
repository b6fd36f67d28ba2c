//! The parts of the command line that several commands share, declared with clap's
//! builder API: the root command with the global options, `--each` and its kin,
//! `--format`, `--tag`, `--category`, `--dry-run`, a version argument, and the parsers of
//! `--environment` and `--lock-wait`. Each command declares its own arguments in
//! `commands/`.

use std::time::Duration;

use clap::{Arg, ArgAction, Command, value_parser};

/// The `migrate` command without its subcommands: the options every command takes.
pub(crate) fn root() -> Command {
    Command::new("migrate")
        .about("Apply, revert and inspect this program's database migrations")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("database")
                .long("database")
                .short('d')
                // As sqlx-cli and diesel spell it.
                .alias("database-url")
                .global(true)
                .env("DATABASE_URL")
                // `--help` would show the variable's value, password included.
                .hide_env_values(true)
                .value_name("URL")
                .help("The database; its scheme picks the backend: a SQLite file or URL (app.db, sqlite://app.db?mode=ro), or a PostgreSQL URL (postgres://user@host/db) (DATABASE_URL may also come from .env)"),
        )
        .arg(
            Arg::new("schema")
                .long("schema")
                .global(true)
                .value_name("NAME")
                .help("PostgreSQL only: the schema of the history table [default: the connection's first search_path schema]; migrations run on the connection's search_path (set it in the URL: ?options=-c%20search_path%3DNAME)"),
        )
        .arg(
            Arg::new("lock")
                .long("lock")
                .global(true)
                .value_name("KIND")
                .value_parser(["advisory", "lease"])
                .help("PostgreSQL only: how concurrent runs are kept apart: advisory (a session lock) [default], or lease (a lease row, for a pooler in transaction mode such as PgBouncer)"),
        )
        .arg(
            Arg::new("set")
                .long("set")
                .global(true)
                .value_name("NAME")
                .help("Work on the migrations of a named set (`set = \"NAME\"` in their attribute)"),
        )
        .arg(
            Arg::new("environment")
                .long("environment")
                .global(true)
                .env("MIGRATE_ENVIRONMENT")
                .value_name("NAME")
                .value_parser(environment)
                .help("The environment this database belongs to (dev, test, production, ...): a migration limited to environments (`environments = [..]` in its attribute) runs only in one of its own and is recorded as skipped in another; needed by a run that would apply one"),
        )
        .arg(
            Arg::new("history-table")
                .long("history-table")
                .global(true)
                .value_name("TABLE")
                .help("The history table [default: migrate_history]"),
        )
        .arg(
            Arg::new("lock-wait")
                .long("lock-wait")
                // Its name until 0.1: the attribute's `lock_timeout` is another setting.
                .alias("lock-timeout")
                .global(true)
                .value_name("DURATION")
                .value_parser(lock_wait)
                .help("How long to wait for another process's lock before failing (SQLite: the database's lock; PostgreSQL: the migration lock of the schema and history table): seconds (30, 2.5) or a number with its unit (500ms, 2s, 5m) [default: 60s]; not the attribute's lock_timeout, which bounds a PostgreSQL statement's wait for a table lock"),
        )
}

/// A version argument: `VERSION`, or `--NAME VERSION` with `.long(NAME)`.
pub(crate) fn version(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .value_name("VERSION")
        .value_parser(value_parser!(u64))
        .help(help)
}

/// `--each`, `--each-schema`, `--each-from` (one of them) and `--jobs`, on `up` and
/// `status`: the same command over many databases.
pub(crate) fn each_args() -> Vec<Arg> {
    vec![
        Arg::new("each")
            .long("each")
            .value_name("FILE_PATTERN")
            .num_args(1..)
            .action(ArgAction::Append)
            .help("Run on every SQLite file the pattern matches ('tenants/*.db', quoted; `*` any name, `?` one character), or on each file named; instead of --database"),
        Arg::new("each-schema")
            .long("each-schema")
            .value_name("SCHEMA_PATTERN")
            .help("Run on every schema of the PostgreSQL --database whose name matches ('tenant_*'), each keeping its history and its tables in itself"),
        Arg::new("each-from")
            .long("each-from")
            .value_name("FILE")
            .help("Run on every database listed in FILE (- for standard input): one URL or SQLite path per line; blank lines and # comments are left out"),
        Arg::new("jobs")
            .long("jobs")
            .short('j')
            .value_name("N")
            .value_parser(value_parser!(u16).range(1..=1024))
            .requires("each-targets")
            .help("With --each, --each-schema or --each-from: how many databases are worked on at once [default: the number of CPUs]"),
    ]
}

/// `--format text|json` on `up` and `status`, for runs over many databases.
pub(crate) fn format_json() -> Arg {
    Arg::new("format")
        .long("format")
        .value_parser(["text", "json"])
        .requires("each-targets")
        .help("With --each, --each-schema or --each-from: the summary as text [default] or as one JSON document (for deploy tooling)")
}

/// `--tag TAG`, repeatable, on `status` and `history`.
pub(crate) fn tag(help: &'static str) -> Arg {
    Arg::new("tag")
        .long("tag")
        .value_name("TAG")
        .action(ArgAction::Append)
        .help(help)
}

/// `--category NAME`, once, on `status` and `history`.
pub(crate) fn category(help: &'static str) -> Arg {
    Arg::new("category")
        .long("category")
        .value_name("NAME")
        .help(help)
}

/// `--dry-run`, on `up` and `down`.
pub(crate) fn dry_run() -> Arg {
    Arg::new("dry-run")
        .long("dry-run")
        .action(ArgAction::SetTrue)
        .help("Rehearse on the real database in a transaction that is rolled back; keep nothing")
}

/// `--environment NAME`: written as the attribute's `environments = [..]` are, lowercase
/// letters, digits, `-`, `_` and `.`, at most 64 characters, so that a name on the command
/// line can match one there.
pub(crate) fn environment(text: &str) -> Result<String, String> {
    const MAX: usize = migrate_spec::MAX_LABEL_LEN;
    if text.is_empty() {
        return Err("an environment name must not be empty, e.g. --environment dev".to_owned());
    }
    if text.len() > MAX {
        return Err(format!("an environment name is at most {MAX} characters"));
    }
    if !text.chars().all(migrate_spec::is_label_char) {
        let suggestion = migrate_spec::label_suggestion(text);
        let hint = if suggestion.is_empty() {
            String::new()
        } else {
            format!(" (write {suggestion})")
        };
        return Err(format!(
            "an environment name is lowercase letters, digits, `-`, `_` and `.`, as in \
             `environments = [..]`{hint}"
        ));
    }
    Ok(text.to_owned())
}

/// `--lock-wait`: seconds (`30`, `2.5`) or a number with its unit (`500ms`, `2s`,
/// `5m`), to the millisecond, at most SQLite's limit of `i32::MAX` milliseconds (about 24
/// days). Nothing else: no sign, no spaces, no exponent, no other unit.
pub(crate) fn lock_wait(text: &str) -> Result<Duration, String> {
    const HOW: &str = "write seconds (30, 2.5) or a number with its unit (500ms, 2s, 5m)";
    let (number, unit_ms): (&str, u128) = if let Some(number) = text.strip_suffix("ms") {
        (number, 1)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1000)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60_000)
    } else {
        (text, 1000)
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if !digits(whole) || (number.contains('.') && !digits(fraction)) {
        return Err(HOW.to_owned());
    }
    let too_long = || format!("at most {}ms (about 24 days); {HOW}", i32::MAX);
    // At most 20 digits each, so that the arithmetic below cannot overflow a u128.
    if whole.len() > 20 {
        return Err(too_long());
    }
    if fraction.len() > 20 {
        return Err(format!("the smallest step is a millisecond; {HOW}"));
    }
    let whole: u128 = whole.parse().map_err(|_| HOW.to_owned())?;
    let scale = 10u128.pow(u32::try_from(fraction.len()).unwrap_or(0));
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| HOW.to_owned())?
    };
    if !(fraction * unit_ms).is_multiple_of(scale) {
        return Err(format!("the smallest step is a millisecond; {HOW}"));
    }
    let ms = whole * unit_ms + fraction * unit_ms / scale;
    if ms > u128::from(i32::MAX.unsigned_abs()) {
        return Err(too_long());
    }
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| too_long())
}

#[cfg(test)]
mod tests {
    #[test]
    fn environment_names_are_written_as_in_the_attribute() {
        for name in ["dev", "test", "production", "eu-west.2", "staging_1"] {
            assert_eq!(super::environment(name).as_deref(), Ok(name));
        }
        for junk in ["", "Prod", "my env", "dev!", "é", &"x".repeat(65)] {
            assert!(super::environment(junk).is_err(), "{junk:?} was accepted");
        }
        let message = super::environment("My Env").unwrap_err();
        assert!(message.contains("write my-env"), "{message}");
    }

    #[test]
    fn lock_waits() {
        use std::time::Duration;
        for (text, ms) in [
            ("0", 0),
            ("30", 30_000),
            ("2.5", 2_500),
            ("0.5s", 500),
            ("500ms", 500),
            ("2s", 2_000),
            ("5m", 300_000),
            ("1.5m", 90_000),
            ("0.001", 1),
            ("2147483647ms", 2_147_483_647),
        ] {
            assert_eq!(
                super::lock_wait(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for junk in [
            "",
            "s",
            "ms",
            ".5",
            "5.",
            "1.2.3",
            "-1",
            "+1",
            " 1",
            "1 s",
            "1h",
            "1e3",
            "abc",
            "0.0001",
            "0.5ms",
            "2147483648ms",
            "99999999999999999999999999999999",
            "1.00000000000000000000001",
        ] {
            assert!(super::lock_wait(junk).is_err(), "{junk:?} was accepted");
        }
    }
}
