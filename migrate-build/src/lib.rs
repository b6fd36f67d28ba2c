//! The build-script helper of `migrate`: every file of the migrations folder is compiled,
//! with no `mod` line to forget, and a file that would register no migration fails the
//! build, naming it; and every crate of the dependency graph that holds migrations is
//! linked ([`link_migration_crates`]).
//!
//! `#[migration]` registers a migration wherever it is compiled, but a file is compiled
//! only when some `mod` line declares it. This crate writes those lines: the build script
//! lists the folder and generates a module per file.
//!
//! # Setup
//!
//! ```toml
//! [dependencies]
//! migrate-sqlite = "0.1"
//!
//! [build-dependencies]
//! migrate-build = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     migrate_build::migrations("src/migrations").generate_or_report();
//! }
//! ```
//!
//! ```text
//! // src/migrations.rs, the module file next to the folder
//! migrate_sqlite::include_migrations!();
//!
//! // src/main.rs (or lib.rs)
//! mod migrations;
//! ```
//!
//! With migrate-postgres it is `migrate_postgres::include_migrations!();` (the same
//! macro, `migrate_core::include_migrations!`). The modules are declared where the macro
//! is (it can also go straight into `main.rs`); their `#[path]`s are absolute, so any
//! place works. Besides including the generated file, the macro declares the folder
//! linked into the program, so that while it is still empty `Migrator::discovered()`
//! finds no migration without an error; a raw
//! `include!(concat!(env!("OUT_DIR"), "/migrations.rs"))` compiles the files but does
//! not declare the folder, and an empty folder is then `Error::NoMigrations`.
//!
//! Then adding a file to `src/migrations/` is all it takes; `migrate new "<description>"`
//! (or [`write_new_migration`]) writes one with the next version.
//!
//! # What the build checks
//!
//! Every `*.rs` file of the folder, in name order (hidden files, subfolders and other
//! files are not migrations and are left alone):
//!
//! - its name is a module name: lowercase letters, digits and `_`, starting with a
//!   letter (`m0003_add_metadata.rs`); otherwise the error says what to rename it to;
//! - it has a `#[migration(..)]` attribute, outside comments and strings;
//! - when its name carries a version (`m` + digits, then `_` or the end of the name:
//!   `m0003_add_metadata.rs`, `m0003.rs`), each attribute in it has that version; the
//!   attribute checks the same rule when it compiles.
//!
//! A problem is an error naming the file and saying what to do; all of them are reported
//! at once. [`Migrations::generate_or_report`] shows each as an `error:` line of Cargo's
//! output; [`Migrations::generate`] returns them as an [`Error`].
//!
//! # Rebuilds
//!
//! The build script tells Cargo to run it again when anything in the folder changes
//! (`cargo::rerun-if-changed=<folder>`): Cargo then compares the modification time of the
//! folder and of everything in it, so adding, removing or renaming a file, and editing
//! one, runs the checks again and regenerates the module list. Nothing else reruns it.
//!
//! # The generated code
//!
//! `$OUT_DIR/migrations.rs` holds, for each file,
//! `#[path = "/absolute/path/src/migrations/m0001_initial_schema.rs"] mod m0001_initial_schema;`,
//! then
//!
//! - `pub(crate) const MIGRATION_FILES: &[&str]`: the absolute paths, which is how
//!   `file!()` names the files and so what `RegisteredMigration::file()` returns;
//! - `pub(crate) fn unregistered_migration_files(registered_files) -> Vec<&'static str>`:
//!   the files from which none of the registered migrations comes.
//!
//! The textual check cannot see an attribute behind a `cfg` that is off or inside a
//! macro; a test of the crate can:
//!
//! ```text
//! #[test]
//! fn every_migration_file_registers_a_migration() {
//!     let migrations = migrate_sqlite::discovered_migrations().unwrap();
//!     let files =
//!         crate::migrations::unregistered_migration_files(migrations.iter().map(|m| m.file()));
//!     assert!(files.is_empty(), "these files register no migration: {files:?}");
//! }
//! ```
//!
//! # Linking the crates that hold migrations
//!
//! A library of migrations is in a program only when the program's code names it.
//! [`link_migration_crates`] in a binary's build script, with
//! `migrate_sqlite::link_migration_crates!()` (or `migrate_postgres::`, or
//! `migrate_core::`: the same macro) in the binary, names every crate of the
//! package's dependency graph that depends on a migrate crate:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     migrate_build::link_migration_crates();
//! }
//! ```
//!
//! ```text
//! // src/main.rs
//! migrate_sqlite::link_migration_crates!();
//! ```
//!
//! Both calls can share one build script. See [`link_migration_crates`] for what it reads
//! and writes, and docs/discovery.md for what it costs and what it cannot catch.
//!
//! # Without a build script
//!
//! [`Migrations::files`] and [`Migrations::code`] run the checks and render the code
//! without touching `OUT_DIR`:
//!
//! ```
//! # fn main() -> Result<(), migrate_build::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(
//!     dir.path().join("m0001_create_users.rs"),
//!     "#[migration(version = 1, description = \"Create users\")]\npub struct CreateUsers;\n",
//! )
//! .unwrap();
//! let files = migrate_build::migrations(dir.path()).files()?;
//! assert_eq!(files[0].module_name(), "m0001_create_users");
//! assert_eq!(files[0].versions(), [1]);
//! # Ok(())
//! # }
//! ```

#![allow(
    clippy::needless_doctest_main,
    reason = "the examples are build scripts, whose `fn main` users copy"
)]

mod error;
mod folder;
mod json;
mod link;
mod name;
mod new;
mod scan;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

pub use error::{Error, Result};
pub use folder::MigrationFile;
pub use link::{LINK_FILE, RUNTIME_PACKAGES};
pub use new::{
    NewMigration, Runtime, VersionStyle, check_description, next_version, timestamp_version,
    write_migration, write_new_migration,
};

use migrate_spec::MAX_VERSION;

/// The name of the file [`Migrations::generate`] writes into `OUT_DIR`.
pub const GENERATED_FILE: &str = "migrations.rs";

/// The migrations folder of a crate, to generate its module list from a build script:
/// see [`Migrations`].
///
/// A relative `folder` is relative to the crate's `Cargo.toml` (Cargo's
/// `CARGO_MANIFEST_DIR`, or the current directory outside a build).
///
/// ```no_run
/// // build.rs
/// fn main() {
///     migrate_build::migrations("src/migrations").generate_or_report();
/// }
/// ```
pub fn migrations(folder: impl AsRef<Path>) -> Migrations {
    Migrations {
        folder: folder.as_ref().to_owned(),
    }
}

/// A migrations folder, made by [`migrations`].
#[derive(Clone, Debug)]
pub struct Migrations {
    folder: PathBuf,
}

impl Migrations {
    /// The generation a build script runs: tells Cargo to rerun it when the folder
    /// changes, checks every file, and writes `$OUT_DIR/migrations.rs` (only when its
    /// contents change, so an unchanged list recompiles nothing). Returns the path of the
    /// generated file.
    ///
    /// It prints Cargo's `cargo::rerun-if-changed` line on standard output, as build
    /// scripts do, and nothing else.
    ///
    /// # Errors
    ///
    /// Every problem with the folder's files (see the [crate docs](crate)), as one
    /// [`Error`] ([`Error::Several`] when there are more); [`Error::OutDirNotSet`] outside
    /// a build script. `.unwrap()` shows the message, but inside Cargo's dump of the
    /// build script's output: [`generate_or_report`](Self::generate_or_report) shows it
    /// on its own.
    ///
    /// ```no_run
    /// // build.rs
    /// fn main() -> Result<(), migrate_build::Error> {
    ///     migrate_build::migrations("src/migrations").generate()?;
    ///     Ok(())
    /// }
    /// ```
    pub fn generate(&self) -> Result<PathBuf> {
        let absolute = self.absolute_folder()?;
        println!("cargo::rerun-if-changed={}", absolute.display());
        let out_dir = env::var_os("OUT_DIR").ok_or(Error::OutDirNotSet)?;
        let code = self.code()?;
        let out_file = Path::new(&out_dir).join(GENERATED_FILE);
        if fs::read_to_string(&out_file).ok().as_deref() != Some(code.as_str()) {
            fs::write(&out_file, code).map_err(|e| Error::io("write", &out_file, e))?;
        }
        Ok(out_file)
    }

    /// [`generate`](Self::generate), reporting its errors to Cargo, one `cargo::error=`
    /// line per problem, which fails the build. The recommended call in a build script:
    /// Cargo shows each problem as `error: <package>@<version>: <message>` and nothing
    /// else, where a panic (`.unwrap()`) comes wrapped in the build script's whole output
    /// and a backtrace.
    ///
    /// ```no_run
    /// // build.rs
    /// fn main() {
    ///     migrate_build::migrations("src/migrations").generate_or_report();
    /// }
    /// ```
    pub fn generate_or_report(&self) {
        if let Err(error) = self.generate() {
            for problem in error.problems() {
                println!("cargo::error={}", one_line(problem));
            }
        }
    }

    /// Every migration file of the folder, checked as [`generate`](Self::generate)
    /// checks it, in name order. Prints nothing and needs no `OUT_DIR`.
    ///
    /// # Errors
    ///
    /// As [`generate`](Self::generate), but never [`Error::OutDirNotSet`].
    ///
    /// ```
    /// # fn main() -> Result<(), migrate_build::Error> {
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("notes.rs"), "// to do\n").unwrap();
    /// let err = migrate_build::migrations(dir.path()).files().unwrap_err();
    /// assert!(err.to_string().contains("notes.rs has no #[migration(..)] attribute"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn files(&self) -> Result<Vec<MigrationFile>> {
        let absolute = self.absolute_folder()?;
        folder::migration_files(&self.folder, &absolute)
    }

    /// The code [`generate`](Self::generate) writes, without writing it.
    ///
    /// # Errors
    ///
    /// As [`files`](Self::files).
    ///
    /// ```
    /// # fn main() -> Result<(), migrate_build::Error> {
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(
    ///     dir.path().join("m0001_create_users.rs"),
    ///     "#[migration(version = 1, description = \"Create users\")]\npub struct CreateUsers;\n",
    /// )
    /// .unwrap();
    /// let code = migrate_build::migrations(dir.path()).code()?;
    /// assert!(code.contains("mod m0001_create_users;"));
    /// assert!(code.contains("pub(crate) const MIGRATION_FILES: &[&str]"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn code(&self) -> Result<String> {
        let absolute = self.absolute_folder()?;
        let files = folder::migration_files(&self.folder, &absolute)?;
        Ok(folder::render::render(&absolute, &files))
    }

    /// The folder as an absolute path: relative to `CARGO_MANIFEST_DIR` when Cargo sets
    /// it, to the current directory otherwise.
    fn absolute_folder(&self) -> Result<PathBuf> {
        let base = match env::var_os("CARGO_MANIFEST_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => env::current_dir().map_err(|e| Error::io("read", ".", e))?,
        };
        let absolute = base.join(&self.folder);
        if absolute.to_str().is_none() {
            return Err(Error::NonUtf8Path { path: absolute });
        }
        Ok(absolute)
    }
}

/// Links every crate of the package's dependency graph that holds migrations, so that
/// none is left out of the program: call it from the build script of the package whose
/// binary migrates, and put `link_migration_crates!()` in the binary. Errors are
/// reported to Cargo, which fails the build, as
/// [`Migrations::generate_or_report`] does; [`try_link_migration_crates`] returns them.
///
/// ```toml
/// [build-dependencies]
/// migrate-build = "0.1"
/// ```
///
/// ```no_run
/// // build.rs
/// fn main() {
///     migrate_build::link_migration_crates();
/// }
/// ```
///
/// ```text
/// // src/main.rs
/// migrate_sqlite::link_migration_crates!();
/// ```
///
/// The linker keeps a crate's migrations only when the program's code names the crate
/// (docs/discovery.md, "The rule"); a dependency nothing names is silently left out.
/// This reads the package's resolved graph of normal dependencies for the target being
/// built, with the features this build enables (`cargo metadata --no-deps` and
/// `cargo tree`, offline, with `Cargo.lock` as it is), and writes
/// `$OUT_DIR/`[`LINK_FILE`] with one `use ::name as _;` per crate that depends directly
/// on one of [`RUNTIME_PACKAGES`] (not counting those themselves, nor proc macros and
/// what is behind them, which are not linked), named as the package's code names it
/// (renames included). `link_migration_crates!()` includes that file.
///
/// A crate that holds migrations but is reachable only through another crate cannot be
/// named by the package: the build fails naming it, the path to it, and the line to add
/// to `[dependencies]`.
///
/// The build script reruns when the package's `Cargo.toml`, the workspace's
/// `Cargo.lock` or the manifest of a path dependency in the graph changes; each run
/// costs the two cargo commands (about 0.1 to 0.4 s).
pub fn link_migration_crates() {
    if let Err(error) = try_link_migration_crates() {
        for problem in error.problems() {
            println!("cargo::error={}", one_line(problem));
        }
    }
}

/// [`link_migration_crates`], returning its errors instead of reporting them to Cargo.
/// Returns the crate names it links, as the package's code names them.
///
/// # Errors
///
/// [`Error::NotInBuildScript`] outside a build script; [`Error::CargoNotRun`],
/// [`Error::CargoFailed`] or [`Error::CargoOutput`] when the dependency graph cannot be
/// read; [`Error::NotADirectDependency`] for each crate that holds migrations but is not
/// a direct dependency ([`Error::Several`] when there are more).
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), migrate_build::Error> {
///     let linked = migrate_build::try_link_migration_crates()?;
///     println!("cargo::warning=linking the migrations of {linked:?}");
///     Ok(())
/// }
/// ```
pub fn try_link_migration_crates() -> Result<Vec<String>> {
    let var = |var: &'static str| env::var_os(var).ok_or(Error::NotInBuildScript { var });
    let manifest_path = PathBuf::from(var("CARGO_MANIFEST_DIR")?).join("Cargo.toml");
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let target = var("TARGET")?;
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("cargo::rerun-if-changed={}", manifest_path.display());

    let common = |args: &[&str]| -> Vec<std::ffi::OsString> {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend([
            "--offline".into(),
            "--locked".into(),
            "--manifest-path".into(),
        ]);
        all.push(manifest_path.clone().into_os_string());
        all
    };
    let metadata_args = common(&["metadata", "--no-deps", "--format-version", "1"]);
    let metadata = link::cargo(&cargo, &metadata_args)?;
    let manifest = link::parse_manifest(&metadata, &manifest_path, "cargo metadata --no-deps")?;
    let lock_file = manifest.workspace_root.join("Cargo.lock");
    if lock_file.exists() {
        println!("cargo::rerun-if-changed={}", lock_file.display());
    }

    let mut tree_args = common(&[
        "tree",
        "--edges",
        "normal",
        "--prefix",
        "depth",
        "--format",
        link::TREE_FORMAT,
        "--no-default-features",
    ]);
    // The package, not the workspace's default members, is the one root of the tree.
    let package = format!("{}@{}", manifest.name, manifest.version);
    tree_args.extend([
        "--package".into(),
        package.into(),
        "--target".into(),
        target,
    ]);
    let features = link::enabled_features(&manifest, |v| env::var_os(v).is_some());
    if !features.is_empty() {
        tree_args.extend(["--features".into(), features.join(",").into()]);
    }
    let tree = link::cargo(&cargo, &tree_args)?;
    let found = link::find(&manifest, &tree, "cargo tree")?;
    for path in &found.manifests {
        if *path != manifest_path {
            println!("cargo::rerun-if-changed={}", path.display());
        }
    }

    let code = link::render(&manifest.name, &found.crates);
    let out_file = out_dir.join(LINK_FILE);
    if fs::read_to_string(&out_file).ok().as_deref() != Some(code.as_str()) {
        fs::write(&out_file, code).map_err(|e| Error::io("write", &out_file, e))?;
    }
    Ok(found.crates)
}

/// An error and its causes on one line, as a `cargo::error=` line needs.
fn one_line(error: &Error) -> String {
    let text = format!("{error:?}");
    text.split(['\n', '\r'])
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION_1: &str = "#[migration(version = 1, description = \"a\")]\npub struct A;\n";

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            fs::write(dir.path().join(name), contents).unwrap();
        }
        dir
    }

    fn problems(dir: &tempfile::TempDir) -> Vec<String> {
        let err = migrations(dir.path()).files().unwrap_err();
        err.problems().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn lists_rs_files_in_name_order() {
        let dir = folder(&[
            ("m0002_b.rs", "#[migration(version = 2)]"),
            ("m0010_c.rs", "#[migration(version = 10)]"),
            ("m0001_a.rs", MIGRATION_1),
            ("README.md", "not code"),
            (".#m0001_a.rs", "an editor's lock file"),
            ("schema.sql", "CREATE TABLE t (id INTEGER)"),
        ]);
        fs::create_dir(dir.path().join("sql")).unwrap();
        fs::write(dir.path().join("sql").join("x.rs"), "").unwrap();
        let files = migrations(dir.path()).files().unwrap();
        let names: Vec<&str> = files.iter().map(MigrationFile::module_name).collect();
        assert_eq!(names, ["m0001_a", "m0002_b", "m0010_c"]);
        assert_eq!(files[2].file_name_version(), Some(10));
        assert_eq!(files[2].versions(), [10]);
        assert_eq!(files[0].path(), dir.path().join("m0001_a.rs"));
        assert!(files[0].absolute_path().is_absolute());
    }

    #[test]
    fn file_names_without_a_version_are_fine() {
        let dir = folder(&[("create_users.rs", MIGRATION_1)]);
        let files = migrations(dir.path()).files().unwrap();
        assert_eq!(files[0].file_name_version(), None);
    }

    #[test]
    fn a_file_without_the_attribute_is_an_error() {
        let dir = folder(&[
            ("m0001_a.rs", MIGRATION_1),
            (
                "helpers.rs",
                "// #[migration(version = 2)]\npub fn helper() {}\n",
            ),
        ]);
        let problems = problems(&dir);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("helpers.rs has no #[migration(..)] attribute"),
            "{problems:?}"
        );
        assert!(
            problems[0].contains("add `#[migration(version = N"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_version_mismatch_is_an_error_naming_both_versions() {
        let dir = folder(&[(
            "m0003_add_metadata.rs",
            "#[migration(version = 4, description = \"x\")]",
        )]);
        let err = migrations(dir.path()).files().unwrap_err();
        assert!(
            matches!(
                err,
                Error::VersionMismatch {
                    file_version: 3,
                    attribute_version: 4,
                    ..
                }
            ),
            "{err}"
        );
        let message = err.to_string();
        for part in [
            "m0003_add_metadata.rs has version 3 in its name",
            "#[migration(version = 4, ..)]",
            "rename the file to m0004_add_metadata.rs or write version = 3",
        ] {
            assert!(message.contains(part), "{message}");
        }
    }

    #[test]
    fn bad_file_names_are_errors_with_a_new_name() {
        let dir = folder(&[
            ("0004-Add Foo.rs", MIGRATION_1),
            ("type.rs", MIGRATION_1),
            (
                "mod.rs",
                "include!(concat!(env!(\"OUT_DIR\"), \"/migrations.rs\"));",
            ),
        ]);
        let problems = problems(&dir);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("0004-Add Foo.rs cannot be compiled as a migration"));
        assert!(
            problems[0].contains("rename it to m0004_add_foo.rs"),
            "{problems:?}"
        );
        assert!(problems[1].contains("mod.rs is in the migrations folder"));
        assert!(
            problems[2].contains("rename it to type_migration.rs"),
            "{problems:?}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let dir = folder(&[
            ("m0001_a.rs", "#[migration(version = 2)]"),
            ("m0002_b.rs", ""),
            ("m0003_c.rs", "#[migration(version = 3)]"),
        ]);
        let err = migrations(dir.path()).files().unwrap_err();
        assert_eq!(err.problems().len(), 2);
        let message = err.to_string();
        assert!(
            message.starts_with("2 problems in the migrations folder:\n- "),
            "{message}"
        );
        let debug = format!("{err:?}");
        assert_eq!(debug, message, "Debug shows the message, for .unwrap()");
        let line = one_line(&err);
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = migrations(dir.path().join("nope")).files().unwrap_err();
        assert!(matches!(err, Error::FolderNotFound { .. }), "{err}");
        assert!(err.to_string().contains("nope does not exist"), "{err}");
    }

    #[test]
    fn generated_code() {
        let dir = folder(&[
            ("m0001_a.rs", MIGRATION_1),
            ("m0002_b.rs", "#[migration(version = 2)]"),
        ]);
        let code = migrations(dir.path()).code().unwrap();
        let a = dir.path().join("m0001_a.rs");
        let a = format!("{:?}", a.to_str().unwrap());
        assert!(
            code.contains(&format!("#[path = {a}]\nmod m0001_a;\n")),
            "{code}"
        );
        assert!(code.contains(&format!("\n    {a},\n")), "{code}");
        assert!(code.contains("mod m0002_b;"), "{code}");
        assert!(!code.contains("not a module of this crate"), "{code}");
        let empty = tempfile::tempdir().unwrap();
        let code = migrations(empty.path()).code().unwrap();
        assert!(code.contains("MIGRATION_FILES: &[&str] = &[];"), "{code}");
    }

    #[test]
    fn generate_needs_out_dir() {
        // Tests run without OUT_DIR: the build-script-only call says where it belongs.
        let dir = folder(&[]);
        if env::var_os("OUT_DIR").is_none() {
            let err = migrations(dir.path()).generate().unwrap_err();
            assert!(matches!(err, Error::OutDirNotSet), "{err}");
        }
    }

    #[test]
    fn link_migration_crates_needs_a_build_script() {
        if env::var_os("OUT_DIR").is_none() {
            let err = try_link_migration_crates().unwrap_err();
            assert!(matches!(err, Error::NotInBuildScript { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains("call migrate_build::link_migration_crates() from a build script"),
                "{err}"
            );
        }
    }
}
