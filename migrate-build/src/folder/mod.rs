//! The migrations folder: [`migrations`] names it, [`Migrations`] checks its files
//! ([`entries`]) and writes the module list a build includes ([`render`]).

mod entries;
mod render;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::{GENERATED_FILE, one_line};

pub use entries::MigrationFile;
pub(crate) use entries::used_versions;

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
        entries::migration_files(&self.folder, &absolute)
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
        let files = entries::migration_files(&self.folder, &absolute)?;
        Ok(render::render(&absolute, &files))
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
}
