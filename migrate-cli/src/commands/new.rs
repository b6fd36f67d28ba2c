//! `migrate new DESCRIPTION`: write the next migration file into the migrations folder.

use clap::{Arg, ArgAction, ArgMatches, Command};
use migrate_core::Migrator;

use crate::exit::SUCCESS;
use crate::failure::{Failure, Outcome};

/// The crate the files `new` writes use: the backend this command is built with, SQLite
/// when it has both.
#[cfg(feature = "sqlite")]
const RUNTIME: migrate_build::Runtime = migrate_build::Runtime::Sqlite;
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
const RUNTIME: migrate_build::Runtime = migrate_build::Runtime::Postgres;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("new")
        .about("Write the next migration file into the migrations folder")
        .arg(Arg::new("description").required(true).help("What the migration does, e.g. \"Add tags to notes\""))
        .arg(
            Arg::new("dir")
                .long("dir")
                .value_name("FOLDER")
                .help("The migrations folder [default: the one the crate's build script names, else src/migrations, found from the nearest Cargo.toml]"),
        )
        .arg(
            Arg::new("timestamp")
                .long("timestamp")
                .action(ArgAction::SetTrue)
                .help("Use the UTC time (YYYYMMDDHHMMSS) as the version instead of the next number"),
        )
}

/// Writes the file and prints its path.
pub(super) fn exec(_matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
    let description = sub
        .get_one::<String>("description")
        .map_or("", String::as_str);
    // The library refuses the same, but only once the folder is found: a description
    // that cannot be written is a mistake on the command line, whatever the folder.
    migrate_build::check_description(description)
        .map_err(|error| Failure::Usage(error.to_string()))?;
    let folder = match sub.get_one::<String>("dir") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => migrations_folder()?,
    };
    let folder = folder.as_path();
    let highest_known = migrator.migrations().last().map_or(0, |m| m.version());
    let version = if sub.get_flag("timestamp") {
        migrate_build::timestamp_version(std::time::SystemTime::now())
    } else {
        migrate_build::next_version(folder)?.max(highest_known + 1)
    };
    if let Some(taken) = migrator
        .migrations()
        .iter()
        .find(|m| m.version() == version)
    {
        return Err(Failure::Run(
            format!(
                "version {version} is taken by migration {taken}, which this program already \
                 contains; run `new` again in a second, or pick the version by hand"
            )
            .into(),
        ));
    }
    let written = migrate_build::write_migration(folder, version, description, RUNTIME)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = written.path().strip_prefix(&cwd).unwrap_or(written.path());
    outln!("{}", shown.display());
    Ok(SUCCESS)
}

/// The migrations folder of the crate `new` is run in: the nearest `Cargo.toml` with a
/// `[package]` upward from the current directory, and the folder its build script gives
/// `migrate_build::migrations("...")`, else its `src/migrations` when that exists.
fn migrations_folder() -> Result<std::path::PathBuf, Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Run(format!("cannot read the current directory: {e}").into()))?;
    let Some(manifest) = cwd
        .ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|file| file.is_file())
    else {
        return Err(Failure::Usage(format!(
            "no Cargo.toml in {} or above it, so no crate to write the migration into: run \
             `migrate new` in your crate's folder, or give the folder with --dir",
            cwd.display()
        )));
    };
    let manifest_text = std::fs::read_to_string(&manifest).unwrap_or_default();
    let crate_dir = manifest.parent().unwrap_or(&cwd);
    if !manifest_text.lines().any(|l| l.trim() == "[package]") {
        return Err(Failure::Usage(format!(
            "{} is a workspace without a package of its own: run `migrate new` in the \
             folder of the crate that has the migrations, or give the folder with --dir",
            manifest.display()
        )));
    }
    let build_script = crate_dir.join("build.rs");
    let configured = std::fs::read_to_string(&build_script)
        .ok()
        .and_then(|text| {
            let start = text.find("migrations(\"")? + "migrations(\"".len();
            let end = text[start..].find('"')?;
            Some(text[start..start + end].to_owned())
        });
    if let Some(folder) = configured {
        return Ok(crate_dir.join(folder));
    }
    let default = crate_dir.join("src").join("migrations");
    if default.is_dir() {
        return Ok(default);
    }
    Err(Failure::Usage(format!(
        "no migrations folder found: {} does not call migrate_build::migrations(\"...\") \
         and {} does not exist; set up the build script (see docs/getting-started.md), or \
         give the folder with --dir",
        build_script.display(),
        default.display()
    )))
}
