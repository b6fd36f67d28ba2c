//! The one error type of the crate.

use std::fmt;
use std::path::PathBuf;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What stops [`Migrations::generate`](crate::Migrations::generate),
/// [`write_new_migration`](crate::write_new_migration) or
/// [`try_link_migration_crates`](crate::try_link_migration_crates). Each variant names
/// the file (as the folder was given joined with the file name, `src/migrations/m0003.rs`)
/// or the crate it is about, and its message says what to do.
///
/// `Debug` prints the message too, so that `.unwrap()` and `.expect(..)` in a build
/// script, and `fn main() -> Result<..>`, show it as it is.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `read`, `list`, `write`, ...
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },

    /// The migrations folder does not exist.
    #[error(
        "the migrations folder {} does not exist; create it (an empty folder is fine) or give \
         the folder's path relative to Cargo.toml",
        folder.display()
    )]
    FolderNotFound {
        /// The folder as given.
        folder: PathBuf,
    },

    /// `generate` was called outside a build script: `OUT_DIR` is not set.
    #[error(
        "OUT_DIR is not set: call migrate_build::migrations(..).generate() from a build script \
         (build.rs), where Cargo sets it"
    )]
    OutDirNotSet,

    /// A path that is not UTF-8 cannot be written into the generated Rust code.
    #[error("{} is not valid UTF-8; rename it, or move the project to a UTF-8 path", path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },

    /// A file name that cannot be a module name.
    #[error(
        "{} cannot be compiled as a migration: its name must be a Rust module name (lowercase \
         letters, digits and `_`, starting with a letter, not a keyword); rename it to \
         {suggestion}",
        file.display()
    )]
    InvalidFileName {
        /// The file.
        file: PathBuf,
        /// A name it could have instead, such as `m0004_add_foo.rs`.
        suggestion: String,
    },

    /// `mod.rs` in the migrations folder.
    #[error(
        "{} is in the migrations folder, which holds migrations only; put the \
         `include!(concat!(env!(\"OUT_DIR\"), \"/migrations.rs\"))` in the module file next to \
         the folder (src/migrations.rs for src/migrations/) and delete mod.rs",
        file.display()
    )]
    ModFile {
        /// The `mod.rs` file.
        file: PathBuf,
    },

    /// A file in the migrations folder without a `#[migration]` attribute.
    #[error(
        "{} has no #[migration(..)] attribute, so it would register no migration; add \
         `#[migration(version = N, description = \"...\")]` on a unit struct that implements \
         `Migration` (`migrate new` writes one), or move the file out of the migrations folder",
        file.display()
    )]
    NoMigration {
        /// The file.
        file: PathBuf,
    },

    /// A file name carries one version and an attribute in the file another.
    #[error(
        "{} has version {file_version} in its name but #[migration(version = {attribute_version}, \
         ..)] in its attribute; rename the file to {suggestion} or write version = \
         {file_version} in the attribute",
        file.display()
    )]
    VersionMismatch {
        /// The file.
        file: PathBuf,
        /// The version in the file name.
        file_version: u64,
        /// The version in the attribute.
        attribute_version: u64,
        /// The file name with the attribute's version.
        suggestion: String,
    },

    /// A file name carries a version too large for a `u64`.
    #[error(
        "{} has version {digits} in its name, which is larger than any version can be; rename \
         the file so that the number after `m` is its attribute's version",
        file.display()
    )]
    FileVersionTooLarge {
        /// The file.
        file: PathBuf,
        /// The digits after `m`.
        digits: String,
    },

    /// A new migration was asked for with a blank description.
    #[error(
        "the description is blank: say what the migration does, e.g. \"Add metadata to chat_users\""
    )]
    BlankDescription,

    /// The description has a control character (NUL, a tab, a newline, ...) or one that
    /// changes the direction of text (U+202E RIGHT-TO-LEFT OVERRIDE, ...); see
    /// [`check_description`](crate::check_description) for what a description may hold.
    #[error(
        "the description has U+{:04X} ({name}) at character {position}: write it without \
         control or text-direction characters",
        u32::from(*character)
    )]
    DescriptionCharacter {
        /// The first character refused.
        character: char,
        /// Its Unicode name, or `a control character`.
        name: &'static str,
        /// Where it is, in characters from 1, in the description as given.
        position: usize,
    },

    /// The new migration's file exists already.
    #[error(
        "{} exists already; choose another description, or delete the file if it is a leftover",
        path.display()
    )]
    FileExists {
        /// The file.
        path: PathBuf,
    },

    /// The new migration's version is used by a file of the folder.
    #[error(
        "version {version} is used already, by {}; {hint}",
        file.display()
    )]
    VersionTaken {
        /// The version.
        version: u64,
        /// The file that uses it.
        file: PathBuf,
        /// What to do.
        hint: &'static str,
    },

    /// The next version would be larger than a version can be.
    #[error(
        "the next version after {highest} would be larger than {max}, the largest a version can \
         be (versions are signed 64-bit SQLite integers)",
        max = crate::MAX_VERSION
    )]
    VersionOverflow {
        /// The highest version in the folder.
        highest: u64,
    },

    /// A version given for a new migration is 0 or larger than a version can be.
    #[error(
        "version {version} is out of range: versions run from 1 to {max}",
        max = crate::MAX_VERSION
    )]
    InvalidVersion {
        /// The version.
        version: u64,
    },

    /// A function for build scripts was called outside one: Cargo's variable `var` is not
    /// set.
    #[error(
        "{var} is not set: call migrate_build::link_migration_crates() from a build script \
         (build.rs), where Cargo sets it"
    )]
    NotInBuildScript {
        /// The variable.
        var: &'static str,
    },

    /// `cargo` could not be started.
    #[error(
        "cannot run `{command}`, which link_migration_crates() needs to read the package's \
         dependency graph; run the build through cargo (its `CARGO` variable names the cargo \
         to use), or remove link_migration_crates() from build.rs and name each crate that \
         holds migrations with `use my_migrations as _;`"
    )]
    CargoNotRun {
        /// The command line.
        command: String,
        /// Why it could not start.
        #[source]
        source: std::io::Error,
    },

    /// `cargo metadata` or `cargo tree` failed.
    #[error(
        "`{command}` failed, so link_migration_crates() cannot read the package's dependency \
         graph: {stderr}; it runs offline with Cargo.lock as it is: run `cargo fetch` if a \
         package is missing and build again, or remove link_migration_crates() from build.rs \
         and name each crate that holds migrations with `use my_migrations as _;`"
    )]
    CargoFailed {
        /// The command line.
        command: String,
        /// What cargo said, on one line.
        stderr: String,
    },

    /// `cargo metadata` or `cargo tree` printed something this crate cannot read.
    #[error(
        "cannot read the output of `{command}`: {detail}; report it to migrate with the \
         output of `cargo --version`, and meanwhile remove link_migration_crates() from \
         build.rs and name each crate that holds migrations with `use my_migrations as _;`"
    )]
    CargoOutput {
        /// The command line.
        command: String,
        /// What is wrong with the output.
        detail: String,
    },

    /// A crate of the dependency graph holds migrations but is not a direct dependency,
    /// so the package's code cannot name it.
    #[error(
        "`{krate}` {version} holds migrations (it depends on a migrate crate) but {package} \
         reaches it only through {chain}, so {package} cannot name it, and its migrations are \
         in the program only if a crate on that path names it; add `{krate} = \"{version}\"` \
         (or its path or git source) to [dependencies] in the Cargo.toml of {package}, and \
         link_migration_crates!() links it"
    )]
    NotADirectDependency {
        /// The package whose build script runs.
        package: String,
        /// The crate that holds migrations (its package name).
        krate: String,
        /// Its version.
        version: String,
        /// The packages from `package` to it: `app -> mid -> auth_migrations`.
        chain: String,
    },

    /// More than one of the above, all found in one pass (over the folder, or over the
    /// dependency graph).
    #[error("{} problems {}:{}", errors.len(), where_(errors), list(errors))]
    Several {
        /// Each problem, in file order.
        errors: Vec<Error>,
    },
}

/// Where the problems of [`Error::Several`] are.
fn where_(errors: &[Error]) -> &'static str {
    if errors
        .iter()
        .all(|e| matches!(e, Error::NotADirectDependency { .. }))
    {
        "in the dependency graph"
    } else {
        "in the migrations folder"
    }
}

fn list(errors: &[Error]) -> String {
    errors.iter().map(|e| format!("\n- {e}")).collect()
}

impl Error {
    /// The problems this error holds: itself, or each of [`Error::Several`].
    pub fn problems(&self) -> &[Error] {
        match self {
            Error::Several { errors } => errors,
            other => core::slice::from_ref(other),
        }
    }

    /// One error for a non-empty list: the one, or [`Error::Several`].
    pub(crate) fn from_list(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Several { errors }),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl fmt::Debug for Error {
    /// The message and its causes, as `anyhow` prints them: what a build script shows on
    /// `.unwrap()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
