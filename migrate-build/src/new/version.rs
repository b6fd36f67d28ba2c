//! Choosing a new migration's version: the next one after the folder's highest, or the
//! UTC time, with the calendar that turns seconds into `YYYYMMDDHHMMSS`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::MAX_VERSION;
use crate::error::{Error, Result};
use crate::folder;

/// The version after the highest one any file of `folder` uses, in its name
/// (`m0003_...`) or in a `#[migration(version = N, ..)]`; 1 for an empty or missing
/// folder. Relative paths are relative to the current directory.
///
/// Lenient, unlike [`Migrations::generate`](crate::Migrations::generate): a file without
/// an attribute or with a bad name still counts with the version it shows.
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be read, [`Error::VersionOverflow`] when the highest
/// version is already the largest possible.
///
/// ```
/// # fn main() -> Result<(), migrate_build::Error> {
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(migrate_build::next_version(dir.path())?, 1);
/// std::fs::write(
///     dir.path().join("m0007_add_tags.rs"),
///     "#[migration(version = 7, description = \"Add tags\")]\npub struct AddTags;\n",
/// )
/// .unwrap();
/// assert_eq!(migrate_build::next_version(dir.path())?, 8);
/// # Ok(())
/// # }
/// ```
pub fn next_version(folder: impl AsRef<Path>) -> Result<u64> {
    let used = used_versions_or_none(folder.as_ref())?;
    next_after(&used)
}

pub(super) fn next_after(used: &[(u64, PathBuf)]) -> Result<u64> {
    match used.iter().map(|(v, _)| *v).max() {
        None => Ok(1),
        Some(highest) if highest >= MAX_VERSION => Err(Error::VersionOverflow { highest }),
        Some(highest) => Ok(highest + 1),
    }
}

/// Every version the folder uses ([`folder::used_versions`]); none for a missing folder.
pub(super) fn used_versions_or_none(folder: &Path) -> Result<Vec<(u64, PathBuf)>> {
    match folder::used_versions(folder) {
        Err(Error::FolderNotFound { .. }) => Ok(Vec::new()),
        other => other,
    }
}

/// The version [`VersionStyle::Timestamp`](crate::VersionStyle::Timestamp) gives a migration made at `time`: the UTC date
/// and time as `YYYYMMDDHHMMSS` (a time before 1970 counts as 1970-01-01 00:00:00).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let time = UNIX_EPOCH + Duration::from_secs(1_795_512_600);
/// assert_eq!(migrate_build::timestamp_version(time), 20261124093000);
/// ```
pub fn timestamp_version(time: SystemTime) -> u64 {
    utc_timestamp(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// `seconds` after the Unix epoch as the UTC date and time `YYYYMMDDHHMMSS`.
pub(super) fn utc_timestamp(seconds: u64) -> u64 {
    let days = seconds / 86_400;
    let time = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    ((year * 100 + month) * 100 + day) * 1_000_000
        + time / 3600 * 10_000
        + time % 3600 / 60 * 100
        + time % 60
}

/// The proleptic Gregorian date `days` after 1970-01-01, by Howard Hinnant's
/// `civil_from_days` (for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_timestamps() {
        assert_eq!(utc_timestamp(0), 19_700_101_000_000);
        assert_eq!(utc_timestamp(86_399), 19_700_101_235_959);
        assert_eq!(utc_timestamp(951_782_400), 20_000_229_000_000); // a leap day
        assert_eq!(utc_timestamp(1_700_000_000), 20_231_114_221_320);
        assert_eq!(utc_timestamp(4_107_542_399), 21_000_228_235_959); // 2100: no leap day
        assert_eq!(utc_timestamp(4_107_542_400), 21_000_301_000_000);
        assert_eq!(utc_timestamp(1_795_512_600), 20_261_124_093_000);
    }
}
