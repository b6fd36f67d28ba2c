//! Reading the migrations folder: its `.rs` files, sorted, each checked.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::name;
use crate::scan;

/// One file of the migrations folder, checked: its name is a module name, it has a
/// `#[migration]` attribute, and the version in its name (if any) is the attribute's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    path: PathBuf,
    absolute: PathBuf,
    module: String,
    file_name_version: Option<u64>,
    versions: Vec<u64>,
}

impl MigrationFile {
    /// The file as the folder was given joined with its name: `src/migrations/m0003.rs`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The absolute path the generated `#[path = ".."]` gives, which is also what
    /// `file!()` in the file (and so `RegisteredMigration::file()`) prints.
    pub fn absolute_path(&self) -> &Path {
        &self.absolute
    }

    /// The module the generated code declares for the file: its name without `.rs`.
    pub fn module_name(&self) -> &str {
        &self.module
    }

    /// The version in the file name (`m0003_...` gives 3), if it has one.
    pub fn file_name_version(&self) -> Option<u64> {
        self.file_name_version
    }

    /// The versions of the file's `#[migration(version = N, ..)]` attributes, as written
    /// (a version the scan cannot read is left out; the attribute reports it).
    pub fn versions(&self) -> &[u64] {
        &self.versions
    }
}

/// A `.rs` file of the folder, unchecked.
pub(crate) struct Entry {
    /// The folder as given, joined with the file name.
    pub(crate) path: PathBuf,
    /// The file name without `.rs`, when it is UTF-8.
    pub(crate) stem: Option<String>,
    /// The absolute path.
    pub(crate) absolute: PathBuf,
}

/// The folder's `.rs` files, sorted by name. Hidden files (editor locks such as
/// `.#m0003.rs`), subfolders and files of other kinds are not migrations and are left out.
pub(crate) fn entries(folder: &Path, absolute_folder: &Path) -> Result<Vec<Entry>> {
    let read = fs::read_dir(absolute_folder).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::FolderNotFound {
            folder: folder.to_owned(),
        },
        _ => Error::io("list", folder, e),
    })?;
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io("list", folder, e))?;
        let file_name = entry.file_name();
        let path = Path::new(&file_name);
        if path.extension() != Some(OsStr::new("rs"))
            || file_name.as_encoded_bytes().starts_with(b".")
        {
            continue;
        }
        let absolute = absolute_folder.join(&file_name);
        // Through symbolic links: a link to a file is a file.
        let is_file = fs::metadata(&absolute)
            .map_err(|e| Error::io("read", folder.join(&file_name), e))?
            .is_file();
        if !is_file {
            continue;
        }
        entries.push(Entry {
            path: folder.join(&file_name),
            stem: path.file_stem().and_then(OsStr::to_str).map(str::to_owned),
            absolute,
        });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Every `.rs` file of the folder, checked; all the problems at once when there are any.
pub(crate) fn migration_files(folder: &Path, absolute_folder: &Path) -> Result<Vec<MigrationFile>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for entry in entries(folder, absolute_folder)? {
        match check(entry) {
            Ok(file) => files.push(file),
            Err(error) => errors.push(error),
        }
    }
    match Error::from_list(errors) {
        None => Ok(files),
        Some(error) => Err(error),
    }
}

fn check(entry: Entry) -> Result<MigrationFile> {
    let Entry {
        path,
        stem,
        absolute,
    } = entry;
    let Some(stem) = stem else {
        return Err(Error::NonUtf8Path { path });
    };
    if stem == "mod" {
        return Err(Error::ModFile { file: path });
    }
    if !name::is_module_name(&stem) {
        let suggestion = format!("{}.rs", name::suggest_module_name(&stem));
        return Err(Error::InvalidFileName {
            file: path,
            suggestion,
        });
    }
    if absolute.to_str().is_none() {
        return Err(Error::NonUtf8Path { path: absolute });
    }
    let source = fs::read_to_string(&absolute).map_err(|e| Error::io("read", &path, e))?;
    let attributes = scan::migration_attributes(&source);
    if attributes.is_empty() {
        return Err(Error::NoMigration { file: path });
    }
    let versions: Vec<u64> = attributes.iter().filter_map(|a| a.version).collect();
    let file_name_version = match name::file_name_version(&stem) {
        None => None,
        Some(Ok(version)) => Some(version),
        Some(Err(digits)) => {
            return Err(Error::FileVersionTooLarge {
                file: path,
                digits: digits.to_owned(),
            });
        }
    };
    if let Some(file_version) = file_name_version
        && let Some(&attribute_version) = versions.iter().find(|&&v| v != file_version)
    {
        let suggestion = renamed(&stem, attribute_version);
        return Err(Error::VersionMismatch {
            file: path,
            file_version,
            attribute_version,
            suggestion,
        });
    }
    Ok(MigrationFile {
        path,
        absolute,
        module: stem,
        file_name_version,
        versions,
    })
}

/// `stem.rs` with the version in its name replaced by `version`, padded as wide as the
/// old one: `m0003_add_metadata` and 4 give `m0004_add_metadata.rs`.
fn renamed(stem: &str, version: u64) -> String {
    let digits = stem[1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(stem.len(), |i| i + 1);
    let width = digits - 1;
    format!("m{version:0width$}{}.rs", &stem[digits..])
}

/// Every version a file of the folder uses, in its name or its attributes, with the file:
/// lenient, for choosing a new migration's version while some files are unfinished.
pub(crate) fn used_versions(folder: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let absolute_folder = std::path::absolute(folder).map_err(|e| Error::io("read", folder, e))?;
    let mut used = Vec::new();
    for entry in entries(folder, &absolute_folder)? {
        if let Some(Some(Ok(version))) = entry.stem.as_deref().map(name::file_name_version) {
            used.push((version, entry.path.clone()));
        }
        let source =
            fs::read_to_string(&entry.absolute).map_err(|e| Error::io("read", &entry.path, e))?;
        for attribute in scan::migration_attributes(&source) {
            if let Some(version) = attribute.version {
                used.push((version, entry.path.clone()));
            }
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_keeps_the_padding() {
        assert_eq!(renamed("m0003_add_metadata", 4), "m0004_add_metadata.rs");
        assert_eq!(renamed("m3_add_metadata", 12), "m12_add_metadata.rs");
        assert_eq!(renamed("m003", 5), "m005.rs");
    }
}
