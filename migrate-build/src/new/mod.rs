//! Writing a new migration file: the next version, its file name and a skeleton that
//! compiles. What `migrate new "<description>"` runs.

mod description;
mod skeleton;
mod version;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::MAX_VERSION;
use crate::error::{Error, Result};
use crate::name;

pub use description::check_description;
pub use version::{next_version, timestamp_version};

use description::checked_description;
use skeleton::skeleton;
use version::{next_after, used_versions_or_none};

/// How a new migration's version is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VersionStyle {
    /// The highest version in the folder plus one; the file name pads it to four digits:
    /// `m0004_add_foo.rs`.
    #[default]
    Sequential,
    /// The current UTC time as `YYYYMMDDHHMMSS`: `m20261124093000_add_foo.rs`. Branches
    /// that each add a migration do not pick the same version.
    Timestamp,
}

/// The crate a new migration file is written for: its `use` line names that crate, so
/// the file compiles in a project that depends on it and on no other migrate crate.
/// `migrate new` writes for the backend the command was built with.
///
/// ```
/// use migrate_build::Runtime;
///
/// assert_eq!(Runtime::Sqlite.crate_name(), "migrate_sqlite");
/// assert_eq!(Runtime::Postgres.crate_name(), "migrate_postgres");
/// assert_eq!(Runtime::Core.crate_name(), "migrate_core");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Runtime {
    /// `migrate-sqlite`.
    Sqlite,
    /// `migrate-postgres`.
    Postgres,
    /// `migrate-core` alone, for a backend of your own.
    Core,
}

impl Runtime {
    /// The crate's name as Rust code writes it: `migrate_sqlite`.
    pub fn crate_name(self) -> &'static str {
        match self {
            Runtime::Sqlite => "migrate_sqlite",
            Runtime::Postgres => "migrate_postgres",
            Runtime::Core => "migrate_core",
        }
    }
}

/// A migration file [`write_new_migration`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMigration {
    path: PathBuf,
    version: u64,
    type_name: String,
}

impl NewMigration {
    /// The file: the folder as given joined with its name, `src/migrations/m0004_add_foo.rs`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The migration's version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The name of the migration's struct: `AddFoo`.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }
}

/// Writes a new migration into `folder` (created if missing; relative to the current
/// directory): the next version by `style`, a file named after it and the description
/// (`m0004_add_foo.rs`), and a unit struct with the `#[migration]` attribute filled in
/// and `up`/`down` skeletons that compile against `runtime` and return an error until
/// they are written.
///
/// # Errors
///
/// [`Error::BlankDescription`] and [`Error::DescriptionCharacter`] (see
/// [`check_description`]); [`Error::VersionTaken`] when a file of the folder uses
/// the version already (a timestamp in the same second as another);
/// [`Error::FileExists`]; [`Error::Io`].
///
/// ```
/// use migrate_build::{Runtime, VersionStyle, write_new_migration};
///
/// # fn main() -> Result<(), migrate_build::Error> {
/// let dir = tempfile::tempdir().unwrap();
/// let folder = dir.path().join("migrations");
/// let (style, runtime) = (VersionStyle::Sequential, Runtime::Sqlite);
/// let first = write_new_migration(&folder, "Create users", style, runtime)?;
/// let second = write_new_migration(&folder, "Add email to users", style, runtime)?;
/// assert_eq!(second.path(), folder.join("m0002_add_email_to_users.rs"));
/// assert_eq!((second.version(), second.type_name()), (2, "AddEmailToUsers"));
///
/// let code = std::fs::read_to_string(second.path()).unwrap();
/// assert!(code.starts_with("use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};"));
/// assert!(code.contains("#[migration(version = 2, description = \"Add email to users\")]"));
/// assert!(code.contains("pub struct AddEmailToUsers;"));
///
/// // A blank description is refused, and the folder is left as it was.
/// assert!(write_new_migration(&folder, "  ", style, runtime).is_err());
/// # assert_eq!(first.version(), 1);
/// # assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 2);
/// # Ok(())
/// # }
/// ```
pub fn write_new_migration(
    folder: impl AsRef<Path>,
    description: &str,
    style: VersionStyle,
    runtime: Runtime,
) -> Result<NewMigration> {
    write_new_migration_at(
        folder.as_ref(),
        description,
        style,
        runtime,
        SystemTime::now(),
    )
}

fn write_new_migration_at(
    folder: &Path,
    description: &str,
    style: VersionStyle,
    runtime: Runtime,
    now: SystemTime,
) -> Result<NewMigration> {
    let description = checked_description(description)?;
    let used = used_versions_or_none(folder)?;
    let (version, hint) = match style {
        VersionStyle::Sequential => (next_after(&used)?, "choose another version"),
        VersionStyle::Timestamp => (
            timestamp_version(now),
            "wait a second and run it again, or check the system clock",
        ),
    };
    write(folder, version, description, runtime, &used, hint)
}

/// Writes a new migration with the version `version` into `folder`, as
/// [`write_new_migration`] does with the version it chooses: for a caller that chooses
/// the version itself, for example one above every version the program discovers too.
///
/// # Errors
///
/// [`Error::InvalidVersion`] for 0 or a version above the largest; the errors of
/// [`write_new_migration`].
///
/// ```
/// # fn main() -> Result<(), migrate_build::Error> {
/// let dir = tempfile::tempdir().unwrap();
/// let postgres = migrate_build::Runtime::Postgres;
/// let new = migrate_build::write_migration(dir.path(), 12, "Add tags", postgres)?;
/// assert_eq!(new.path(), dir.path().join("m0012_add_tags.rs"));
/// let code = std::fs::read_to_string(new.path()).unwrap();
/// assert!(code.starts_with("use migrate_postgres::{BoxError, Db, Migration, Reversible, migration};"));
/// // The folder uses 12 now.
/// assert!(migrate_build::write_migration(dir.path(), 12, "Add labels", postgres).is_err());
/// # Ok(())
/// # }
/// ```
pub fn write_migration(
    folder: impl AsRef<Path>,
    version: u64,
    description: &str,
    runtime: Runtime,
) -> Result<NewMigration> {
    let folder = folder.as_ref();
    let description = checked_description(description)?;
    if version == 0 || version > MAX_VERSION {
        return Err(Error::InvalidVersion { version });
    }
    let used = used_versions_or_none(folder)?;
    write(
        folder,
        version,
        description,
        runtime,
        &used,
        "choose another version",
    )
}

fn write(
    folder: &Path,
    version: u64,
    description: &str,
    runtime: Runtime,
    used: &[(u64, PathBuf)],
    hint: &'static str,
) -> Result<NewMigration> {
    if let Some((_, file)) = used.iter().find(|(v, _)| *v == version) {
        return Err(Error::VersionTaken {
            version,
            file: file.clone(),
            hint,
        });
    }

    let slug = name::slug(description);
    // Named by the rule the attribute and the build read it back with: `m0003.rs` when
    // the description has no ASCII word.
    let stem = migrate_spec::file_stem(version, &slug);
    let file_name = format!("{stem}.rs");
    let type_name = name::type_name(&slug, version);
    let path = folder.join(&file_name);
    let code = skeleton(runtime, version, description, &type_name, &file_name);

    fs::create_dir_all(folder).map_err(|e| Error::io("create", folder, e))?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => Error::FileExists { path: path.clone() },
            _ => Error::io("create", &path, e),
        })?;
    if let Err(e) = file.write_all(code.as_bytes()) {
        // Leave no half-written migration behind.
        let _ = fs::remove_file(&path);
        return Err(Error::io("write", &path, e));
    }
    Ok(NewMigration {
        path,
        version,
        type_name,
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn sequential_versions_follow_the_highest() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path();
        fs::write(folder.join("m0002_b.rs"), "#[migration(version = 2)]").unwrap();
        // A version in an attribute counts as much as one in a name.
        fs::write(folder.join("later.rs"), "#[migration(version = 9)]").unwrap();
        // So does a file still without an attribute.
        fs::write(folder.join("m0005_wip.rs"), "").unwrap();
        fs::write(folder.join("notes.md"), "m0100").unwrap();
        assert_eq!(next_version(folder).unwrap(), 10);
        let new = write_new_migration(folder, "Add foo", VersionStyle::Sequential, Runtime::Sqlite)
            .unwrap();
        assert_eq!(new.version(), 10);
        assert_eq!(new.path(), folder.join("m0010_add_foo.rs"));
    }

    #[test]
    fn the_skeleton_uses_the_runtime_crate_it_is_written_for() {
        let dir = tempfile::tempdir().unwrap();
        for (version, runtime) in [
            (1, Runtime::Sqlite),
            (2, Runtime::Postgres),
            (3, Runtime::Core),
        ] {
            let new = write_migration(dir.path(), version, "Add tags", runtime).unwrap();
            let code = fs::read_to_string(new.path()).unwrap();
            let crate_name = runtime.crate_name();
            assert!(
                code.starts_with(&format!(
                    "use {crate_name}::{{BoxError, Db, Migration, Reversible, migration}};\n"
                )),
                "{code}"
            );
            assert_eq!(code.matches("migrate_").count(), 1, "{code}");
        }
    }

    #[test]
    fn a_description_without_a_word_names_the_file_by_its_version_alone() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path();
        let new = write_migration(folder, 3, "日本語", Runtime::Sqlite).unwrap();
        assert_eq!(new.path(), folder.join("m0003.rs"));
        // The build reads version 3 from that name (the attribute does too: the ui case
        // m0009.rs), and the attribute in the file says 3.
        let files = crate::migrations(folder).files().unwrap();
        assert_eq!(files[0].file_name_version(), Some(3));
        assert_eq!(files[0].versions(), [3]);
        // So a file of that name with another version is refused.
        let code = fs::read_to_string(new.path()).unwrap();
        fs::write(new.path(), code.replace("version = 3", "version = 4")).unwrap();
        let err = crate::migrations(folder).files().unwrap_err();
        assert!(matches!(err, Error::VersionMismatch { .. }), "{err}");
    }

    #[test]
    fn a_missing_folder_starts_at_one_and_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("src").join("migrations");
        assert_eq!(next_version(&folder).unwrap(), 1);
        let new = write_new_migration(
            &folder,
            "Initial schema",
            VersionStyle::Sequential,
            Runtime::Sqlite,
        )
        .unwrap();
        assert_eq!(new.path(), folder.join("m0001_initial_schema.rs"));
        assert_eq!(new.type_name(), "InitialSchema");
    }

    #[test]
    fn timestamp_versions() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path();
        let now = UNIX_EPOCH + Duration::from_secs(1_795_512_600);
        let new = write_new_migration_at(
            folder,
            "Add index",
            VersionStyle::Timestamp,
            Runtime::Sqlite,
            now,
        )
        .unwrap();
        assert_eq!(new.version(), 20_261_124_093_000);
        assert_eq!(new.path(), folder.join("m20261124093000_add_index.rs"));
        let code = fs::read_to_string(new.path()).unwrap();
        assert!(
            code.contains("#[migration(version = 20261124093000, description = \"Add index\")]")
        );

        // The same second again: the version is taken.
        let err = write_new_migration_at(
            folder,
            "Add other index",
            VersionStyle::Timestamp,
            Runtime::Sqlite,
            now,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::VersionTaken {
                    version: 20_261_124_093_000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("m20261124093000_add_index.rs"),
            "{err}"
        );
        assert!(err.to_string().contains("wait a second"), "{err}");
    }

    #[test]
    fn refuses_blank_descriptions() {
        let dir = tempfile::tempdir().unwrap();
        for blank in ["", "   ", "\u{3000}"] {
            let err =
                write_new_migration(dir.path(), blank, VersionStyle::Sequential, Runtime::Sqlite)
                    .unwrap_err();
            assert!(matches!(err, Error::BlankDescription), "{err}");
        }
        // Blank but for control characters: the first of them is named.
        let err = write_new_migration(
            dir.path(),
            " \n\t",
            VersionStyle::Sequential,
            Runtime::Sqlite,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::DescriptionCharacter {
                    character: '\n',
                    position: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path();
        // A leftover with the name the next migration would get, which uses no version.
        fs::create_dir(folder.join("m0001_add_foo.rs")).unwrap();
        let err = write_new_migration(folder, "Add foo", VersionStyle::Sequential, Runtime::Sqlite)
            .unwrap_err();
        assert!(matches!(err, Error::FileExists { .. }), "{err}");
        assert!(
            err.to_string().contains("m0001_add_foo.rs exists already"),
            "{err}"
        );
    }

    #[test]
    fn refuses_to_go_past_the_largest_version() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path();
        fs::write(
            folder.join("last.rs"),
            format!("#[migration(version = {MAX_VERSION})]"),
        )
        .unwrap();
        let err = next_version(folder).unwrap_err();
        assert!(matches!(err, Error::VersionOverflow { .. }), "{err}");
    }

    /// The refusal is the library's, whichever function writes the file: each character
    /// is named as U+XXXX with its position, and the folder is left as it was.
    #[test]
    fn refuses_control_and_text_direction_characters() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("migrations");
        for (description, code, name, position) in [
            ("Add \u{202E}sgat", "U+202E", "RIGHT-TO-LEFT OVERRIDE", 5),
            ("\u{2066}Add tags", "U+2066", "LEFT-TO-RIGHT ISOLATE", 1),
            ("Add tags\0", "U+0000", "NULL", 9),
            ("Add\ntags", "U+000A", "LINE FEED", 4),
            ("Add\ttags", "U+0009", "CHARACTER TABULATION", 4),
            // Before trimming: a trailing newline is refused, not trimmed away.
            ("Add tags\n", "U+000A", "LINE FEED", 9),
            ("Add \u{1B}[31mtags", "U+001B", "ESCAPE", 5),
            ("Add \u{85}tags", "U+0085", "a control character", 5),
        ] {
            let expected = format!("{code} ({name}) at character {position}");
            let error = check_description(description).unwrap_err();
            assert!(
                matches!(error, Error::DescriptionCharacter { position: p, .. } if p == position),
                "{description:?}: {error}"
            );
            assert!(error.to_string().contains(&expected), "{error}");
            for error in [
                write_migration(&folder, 7, description, Runtime::Sqlite).unwrap_err(),
                write_new_migration(
                    &folder,
                    description,
                    VersionStyle::Sequential,
                    Runtime::Sqlite,
                )
                .unwrap_err(),
                write_new_migration(
                    &folder,
                    description,
                    VersionStyle::Timestamp,
                    Runtime::Sqlite,
                )
                .unwrap_err(),
            ] {
                assert!(error.to_string().contains(&expected), "{error}");
            }
            assert!(!folder.exists(), "{description:?} created the folder");
        }
    }

    /// What a description may hold: any other character, in any script.
    #[test]
    fn accepts_other_characters() {
        for description in [
            "Add tags",
            "  Add tags  ",
            "Ajoute les étiquettes",
            "添加标签",
            "إضافة وسوم",
            "Add 👩‍💻 (zero-width joiner) and \"quotes\" \\ ok",
        ] {
            check_description(description).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let new = write_migration(dir.path(), 3, "إضافة وسوم", Runtime::Sqlite).unwrap();
        assert_eq!(new.version(), 3);
    }

    #[test]
    fn skeleton_escapes_the_description() {
        let dir = tempfile::tempdir().unwrap();
        let new = write_new_migration(
            dir.path(),
            "  Rename \"name\" to full_name \\ ok  ",
            VersionStyle::Sequential,
            Runtime::Sqlite,
        )
        .unwrap();
        assert_eq!(
            new.path(),
            dir.path().join("m0001_rename_name_to_full_name_ok.rs")
        );
        let code = fs::read_to_string(new.path()).unwrap();
        assert!(
            code.contains(r#"description = "Rename \"name\" to full_name \\ ok")]"#),
            "{code}"
        );
        assert!(
            code.contains("/// Rename \"name\" to full_name \\ ok\n"),
            "{code}"
        );
    }

    #[test]
    fn explicit_versions() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path();
        fs::write(folder.join("m0003_c.rs"), "#[migration(version = 3)]").unwrap();
        for version in [0, MAX_VERSION + 1] {
            let err = write_migration(folder, version, "x", Runtime::Sqlite).unwrap_err();
            assert!(matches!(err, Error::InvalidVersion { .. }), "{err}");
        }
        let err = write_migration(folder, 3, "Again", Runtime::Sqlite).unwrap_err();
        assert!(
            matches!(err, Error::VersionTaken { version: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("m0003_c.rs"), "{err}");
        let err = write_migration(folder, 4, " ", Runtime::Sqlite).unwrap_err();
        assert!(matches!(err, Error::BlankDescription), "{err}");
        let new = write_migration(folder, 40, "Later", Runtime::Sqlite).unwrap();
        assert_eq!(new.path(), folder.join("m0040_later.rs"));
        assert_eq!(next_version(folder).unwrap(), 41);
    }

    #[test]
    fn descriptions_without_ascii_words() {
        let dir = tempfile::tempdir().unwrap();
        let new = write_new_migration(
            dir.path(),
            "日本語",
            VersionStyle::Sequential,
            Runtime::Sqlite,
        )
        .unwrap();
        assert_eq!(new.path(), dir.path().join("m0001.rs"));
        assert_eq!(new.type_name(), "Migration1");
    }
}
