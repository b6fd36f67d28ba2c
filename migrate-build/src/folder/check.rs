// The function the generated `migrations.rs` ends with (see render.rs): not a module of
// this crate. It compiles in the user's crate, next to `MIGRATION_FILES`, so it names
// everything by absolute path and must stay free of warnings under their lints.

/// The files of [`MIGRATION_FILES`] from which no migration was registered, given the
/// files the registered migrations come from. Every file of the folder should register
/// at least one: a test can say so with
/// `assert!(unregistered_migration_files(migrations.iter().map(|m| m.file())).is_empty())`.
///
/// A path is compared as it is, or, when `file!()` printed it remapped
/// (`--remap-path-prefix`), by its folder and file names.
#[allow(dead_code)]
pub(crate) fn unregistered_migration_files<'a>(
    registered_files: impl ::core::iter::IntoIterator<Item = &'a str>,
) -> ::std::vec::Vec<&'static str> {
    fn tail(path: &str) -> ::std::vec::Vec<&str> {
        path.rsplit(['/', '\\']).take(2).collect()
    }
    fn same_file(listed: &str, registered: &str) -> bool {
        listed == registered || (tail(listed).len() == 2 && tail(listed) == tail(registered))
    }
    let registered: ::std::vec::Vec<&str> = registered_files.into_iter().collect();
    MIGRATION_FILES
        .iter()
        .copied()
        .filter(|listed| !registered.iter().any(|r| same_file(listed, r)))
        .collect()
}
