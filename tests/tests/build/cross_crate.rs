//! End-to-end tests of discovery across crates: each test writes a small Cargo workspace
//! into a temporary directory (library crates with `#[migration]`s, binaries that use
//! them, path dependencies on this workspace's crates), builds it with `cargo build
//! --offline` in a child process and looks at what the build and the binaries say.
//!
//! The children share one target directory under this workspace's target
//! (`CARGO_TARGET_TMPDIR/cross-crate`), so a rerun compiles only the generated crates.
//!
//! What they pin down:
//! - two crates defining the same version fail the build, naming the version;
//! - a duplicate version is never skipped silently, however the program refers to the
//!   crates (a build error or a start-up error, naming the version);
//! - distinct versions from several crates are all discovered;
//! - the linking rule: a crate's migrations are in a program when, and only when, some
//!   crate linked into it names that crate in its code (see [`linking_rule`]);
//! - every crate type links: a `cdylib` and a `staticlib` holding migrations (and linking
//!   a crate that holds some) build;
//! - under each LTO profile a duplicate version is caught, naming it: by the link with
//!   fat LTO (and without LTO), at start-up with thin LTO;
//! - a migration that a `macro_rules!` of another file generates belongs to the file that
//!   invokes the macro: its checksum and its file-name version are that file's.

use migrate_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{copy_lock_file, debug_binary, path_dependency};

/// The target directory the child builds share, kept between runs so that a rerun
/// reuses the compiled dependencies.
fn child_target_dir() -> PathBuf {
    support::child_target_dir!("cross-crate")
}

/// A `Cargo.toml` for a generated package, with `deps` as its `[dependencies]` lines.
fn manifest(name: &str, deps: &[String]) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{}\n",
        deps.join("\n")
    )
}

/// A dependency line on one of the generated crates.
fn sibling(krate: &str) -> String {
    format!("{krate} = {{ path = '../{krate}' }}")
}

/// A library crate with one irreversible migration `ty` (version `version`), declared
/// through `runtime` (`migrate_core` or `migrate_sqlite`), and a `pub fn marker()`.
fn migration_lib(runtime: &str, version: u64, ty: &str) -> String {
    format!(
        r#"use {runtime}::{{BoxError, Db, Migration, migration}};

#[migration(version = {version}, description = "{ty}", irreversible)]
pub struct {ty};

impl Migration for {ty} {{
    fn up(&self, _db: &mut dyn Db) -> Result<(), BoxError> {{
        Ok(())
    }}
}}

/// Something to call from elsewhere.
pub fn marker() {{}}
"#
    )
}

/// A binary: `items` at the top, `body` at the start of `main`, which then prints one
/// `VERSION TYPE` line per discovered migration, or the discovery error on stderr (and
/// exits with 1).
fn probe_bin(items: &str, body: &str) -> String {
    format!(
        r#"{items}

fn main() {{
    {body}
    match migrate_core::discovered_migrations() {{
        Ok(migrations) => {{
            for m in migrations {{
                println!("{{}} {{}}", m.version(), m.type_name());
            }}
        }}
        Err(e) => {{
            eprintln!("{{e}}");
            std::process::exit(1);
        }}
    }}
}}
"#
    )
}

/// How the binaries of the `probe` package refer to the crate `lonely` (migration 7),
/// and whether its migration is discovered.
const PROBES: &[(&str, &str, &str, bool)] = &[
    // (binary, items, start of main, migration 7 discovered)
    ("none", "", "", false),
    ("cfg_off", "#[cfg(any())]\nuse lonely as _;", "", false),
    ("via_mid_none", "", "mid_none::marker();", false),
    ("use_as", "use lonely as _;", "", true),
    ("extern_crate", "extern crate lonely;", "", true),
    (
        "dead_code",
        "#[allow(dead_code)]\nfn never_called() {\n    lonely::marker();\n}",
        "",
        true,
    ),
    ("call_fn", "", "lonely::marker();", true),
    (
        "get_migration",
        "",
        "let _ = lonely::Lonely::get_migration();",
        true,
    ),
    ("via_mid_use", "", "mid_use::marker();", true),
];

/// Writes the generated workspace into a new temporary directory:
///
/// - `dup_a` (core, version 5), `dup_b` (sqlite, version 5), and two binaries using
///   both: `dup_app` calls a function of each, `dup_use` only has `use dup_x as _;`;
/// - `ok_a` (core, 5), `ok_b` (sqlite, 6) and `ok_app`, which uses both;
/// - `lonely` (core, 7); `mid_use` names it (`use lonely as _;`), `mid_none` only
///   depends on it; `probe` depends on all three, with one binary per [`PROBES`] row.
fn generated_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, contents: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create folder");
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    };
    let members = [
        "dup_a", "dup_b", "dup_app", "dup_use", "ok_a", "ok_b", "ok_app", "lonely", "mid_use",
        "mid_none", "probe",
    ];
    write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = {members:?}\n",
            members = members
        ),
    );
    // The same dependency versions as this workspace, resolvable offline.
    copy_lock_file(root);

    for (name, runtime, version, ty) in [
        ("dup_a", "migrate-core", 5, "DupA"),
        ("dup_b", "migrate-sqlite", 5, "DupB"),
        ("ok_a", "migrate-core", 5, "OkA"),
        ("ok_b", "migrate-sqlite", 6, "OkB"),
        ("lonely", "migrate-core", 7, "Lonely"),
    ] {
        write(
            &format!("{name}/Cargo.toml"),
            &manifest(name, &[path_dependency(runtime)]),
        );
        write(
            &format!("{name}/src/lib.rs"),
            &migration_lib(&runtime.replace('-', "_"), version, ty),
        );
    }

    let core = path_dependency("migrate-core");
    for (name, lib, main) in [
        (
            "dup_app",
            ["dup_a", "dup_b"],
            probe_bin("", "dup_a::marker();\n    dup_b::marker();"),
        ),
        (
            "dup_use",
            ["dup_a", "dup_b"],
            probe_bin("use dup_a as _;\nuse dup_b as _;", ""),
        ),
        (
            "ok_app",
            ["ok_a", "ok_b"],
            probe_bin("", "ok_a::marker();\n    ok_b::marker();"),
        ),
    ] {
        let deps = [sibling(lib[0]), sibling(lib[1]), core.clone()];
        write(&format!("{name}/Cargo.toml"), &manifest(name, &deps));
        write(&format!("{name}/src/main.rs"), &main);
    }

    write(
        "mid_use/Cargo.toml",
        &manifest("mid_use", &[sibling("lonely")]),
    );
    write(
        "mid_use/src/lib.rs",
        "use lonely as _;\n\n/// Something to call.\npub fn marker() {}\n",
    );
    write(
        "mid_none/Cargo.toml",
        &manifest("mid_none", &[sibling("lonely")]),
    );
    write(
        "mid_none/src/lib.rs",
        "/// Something to call.\npub fn marker() {}\n",
    );

    let deps = [
        sibling("lonely"),
        sibling("mid_use"),
        sibling("mid_none"),
        core,
    ];
    write("probe/Cargo.toml", &manifest("probe", &deps));
    for (bin, items, body, _) in PROBES {
        write(&format!("probe/src/bin/{bin}.rs"), &probe_bin(items, body));
    }
    dir
}

/// `cargo build --offline -p PACKAGE` in the generated workspace, in a clean environment
/// (see [`support::cargo_build`]), into [`child_target_dir`].
fn cargo_build(workspace: &Path, package: &str) -> Output {
    cargo_build_profile(workspace, package, "dev")
}

/// [`cargo_build`] with `--profile PROFILE`.
fn cargo_build_profile(workspace: &Path, package: &str, profile: &str) -> Output {
    let output = support::cargo_build(
        workspace,
        &["-p", package, "--profile", profile],
        &child_target_dir(),
        &[],
    );
    if !output.status.success() {
        // A failed link leaves the binary's object files behind, under new names each
        // time: remove them so that the shared target directory does not grow.
        let dir = if profile == "dev" { "debug" } else { profile };
        let deps = child_target_dir().join(dir).join("deps");
        let prefix = format!("{}-", package.replace('-', "_"));
        for entry in fs::read_dir(&deps).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".rcgu.o") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    output
}

/// A binary the last build of the generated workspace made.
fn built(bin: &str) -> PathBuf {
    debug_binary(&child_target_dir(), bin)
}

/// Runs a built binary: its exit success, stdout lines and stderr.
fn run(bin: &str) -> (bool, Vec<String>, String) {
    let output = Command::new(built(bin))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    (
        output.status.success(),
        stdout.lines().map(str::to_owned).collect(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn build_ok(workspace: &Path, package: &str) {
    let output = cargo_build(workspace, package);
    assert!(
        output.status.success(),
        "building `{package}` failed:\n{}",
        stderr(&output)
    );
}

/// Two crates define version 5 and the binary calls into both: the link fails, and the
/// error names the version and both crates.
#[test]
fn duplicate_version_across_crates_fails_the_build() {
    let workspace = generated_workspace();
    let output = cargo_build(workspace.path(), "dup_app");
    let err = stderr(&output);
    assert!(!output.status.success(), "dup_app built:\n{err}");
    assert!(
        err.contains(
            "duplicate symbol: migrate__migration_version_5_is_defined_twice__give_one_of_the_two_migrations_another_version"
        ),
        "the build error does not name version 5:\n{err}"
    );
    for krate in ["dup_a", "dup_b"] {
        assert!(
            err.contains(krate),
            "the build error does not name {krate}:\n{err}"
        );
    }
}

/// The same two crates, named only by `use dup_a as _; use dup_b as _;`: both are
/// linked (see [`linking_rule`]), so the duplicate must be reported, by the linker or
/// at start-up, never resolved by dropping one of the two migrations.
///
/// What pulls a migration's object file out of its rlib is rustc's `symbols.o`, which
/// refers to every `#[used]` or exported symbol of the linked crates *by name*. If both
/// entries carry the same `export_name`, that one name is resolved by the first rlib
/// that defines it and the other entry's object is never pulled in (unless something
/// else in it is needed, like a function that was not inlined): no link error, one
/// migration gone. The entry must keep a name of its own, with the version's symbol on
/// a second static in the same `const _` block.
#[test]
fn duplicate_version_is_never_skipped_silently() {
    let workspace = generated_workspace();
    let output = cargo_build(workspace.path(), "dup_use");
    if output.status.success() {
        let (ok, lines, err) = run("dup_use");
        assert!(
            !ok && err.contains("migration version 5"),
            "dup_use links DupA and DupB (both version 5), yet discovery found {lines:?} \
             and reported no duplicate (stderr: {err:?}): one migration was dropped silently"
        );
    } else {
        let err = stderr(&output);
        assert!(
            err.contains("migration_version_5_is_defined_twice"),
            "the build error does not name version 5:\n{err}"
        );
    }
}

/// Distinct versions in two crates (one through migrate-core, one through
/// migrate-sqlite): the binary discovers both, in order.
#[test]
fn distinct_versions_across_crates_are_all_discovered() {
    let workspace = generated_workspace();
    build_ok(workspace.path(), "ok_app");
    let (ok, lines, err) = run("ok_app");
    assert!(ok, "ok_app failed: {err}");
    assert_eq!(lines, ["5 OkA", "6 OkB"]);
}

/// The linking rule, found by experiment (rustc 1.95, edition 2024; the same in debug
/// and in release without LTO, with thin LTO and with fat LTO):
///
/// A dependency's migrations are in a program if and only if some crate linked into the
/// program names the dependency in its code, after `cfg` expansion. Listing it in
/// `[dependencies]` is not enough: rustc loads (and so links) only the `--extern`
/// crates a crate's code mentions, and the dependency's objects never reach the linker.
/// Any mention is enough, even one that generates no code: `use dep as _;` (the
/// smallest), `extern crate dep;`, a call in a function never called, or a mention in
/// an intermediate crate the program itself names. A mention under a disabled `cfg`
/// is none.
#[test]
fn linking_rule() {
    let workspace = generated_workspace();
    build_ok(workspace.path(), "probe");
    let mut wrong = Vec::new();
    for &(bin, _, _, linked) in PROBES {
        let (ok, lines, err) = run(bin);
        assert!(ok, "{bin} failed: {err}");
        let expected: &[&str] = if linked { &["7 Lonely"] } else { &[] };
        if lines != expected {
            wrong.push(format!(
                "{bin}: expected {expected:?}, discovered {lines:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the linking rule changed:\n{}",
        wrong.join("\n")
    );
}

/// A second generated workspace, of crates that depend on migrate-core only (no SQLite,
/// so they build fast), with two profiles besides `dev`: `thin` and `fat`, release builds
/// with `lto = "thin"` and `lto = "fat"`.
///
/// - `core_a` and `core_b` (both version 11) and `core_dup_app`, which calls into both;
/// - `core_ok` (version 12); `plugin_cdylib` (a `cdylib`, version 13) and
///   `plugin_staticlib` (a `staticlib`, version 14), each also linking `core_ok`;
/// - `macro_app`, whose migration 4 a `macro_rules!` of another file generates (see
///   [`MACRO_FILE`]).
fn core_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, contents: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create folder");
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    };
    let members = [
        "core_a",
        "core_b",
        "core_dup_app",
        "core_ok",
        "plugin_cdylib",
        "plugin_staticlib",
        "macro_app",
    ];
    write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = {members:?}\n\n\
             [profile.thin]\ninherits = \"release\"\nlto = \"thin\"\n\n\
             [profile.fat]\ninherits = \"release\"\nlto = \"fat\"\n"
        ),
    );
    copy_lock_file(root);
    let core = path_dependency("migrate-core");

    for (name, version, ty) in [
        ("core_a", 11, "CoreA"),
        ("core_b", 11, "CoreB"),
        ("core_ok", 12, "CoreOk"),
    ] {
        write(
            &format!("{name}/Cargo.toml"),
            &manifest(name, std::slice::from_ref(&core)),
        );
        write(
            &format!("{name}/src/lib.rs"),
            &migration_lib("migrate_core", version, ty),
        );
    }
    write(
        "core_dup_app/Cargo.toml",
        &manifest(
            "core_dup_app",
            &[sibling("core_a"), sibling("core_b"), core.clone()],
        ),
    );
    write(
        "core_dup_app/src/main.rs",
        &probe_bin("", "core_a::marker();\n    core_b::marker();"),
    );

    for (name, kind, version, ty) in [
        ("plugin_cdylib", "cdylib", 13, "PluginCdylib"),
        ("plugin_staticlib", "staticlib", 14, "PluginStaticlib"),
    ] {
        let manifest = manifest(name, &[sibling("core_ok"), core.clone()]).replace(
            "\n[dependencies]",
            &format!("\n[lib]\ncrate-type = [\"{kind}\"]\n\n[dependencies]"),
        );
        write(&format!("{name}/Cargo.toml"), &manifest);
        write(
            &format!("{name}/src/lib.rs"),
            &format!(
                "{}\nuse core_ok as _;\n\n/// How many migrations the library holds.\n\
                 #[unsafe(no_mangle)]\npub extern \"C\" fn migration_count() -> usize {{\n    \
                 migrate_core::discovered_migrations().map_or(0, |m| m.len())\n}}\n",
                migration_lib("migrate_core", version, ty)
            ),
        );
    }

    write(
        "macro_app/Cargo.toml",
        &manifest("macro_app", std::slice::from_ref(&core)),
    );
    write(&format!("macro_app/{MACRO_FILE}"), MACRO_RULES);
    write(&format!("macro_app/{INVOKING_FILE}"), &invocation(SQL_V1));
    write(
        "macro_app/src/main.rs",
        "#[macro_use]\nmod m0001_table_macro;\nmod m0004_create_t;\n\n\
         fn main() {\n    let m = m0004_create_t::CreateT::get_migration();\n    \
         println!(\"{} {}\", m.version(), m.checksum());\n}\n",
    );
    dir
}

/// The file that defines the `macro_rules!`. It is named for version 1 on purpose: were
/// the file-name check made against it rather than the invoking file, migration 4 would
/// not build.
const MACRO_FILE: &str = "src/m0001_table_macro.rs";

/// The file that invokes the macro, generating migration 4.
const INVOKING_FILE: &str = "src/m0004_create_t.rs";

const MACRO_RULES: &str = r#"/// A migration that runs one statement.
macro_rules! create_table {
    ($version:literal, $name:ident, $sql:literal) => {
        #[migrate_core::migration(version = $version, description = $sql, irreversible)]
        pub struct $name;

        impl migrate_core::Migration for $name {
            fn up(&self, db: &mut dyn migrate_core::Db) -> Result<(), migrate_core::BoxError> {
                db.execute($sql)
            }
        }
    };
}
"#;

const SQL_V1: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY)";
const SQL_V2: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)";

fn invocation(sql: &str) -> String {
    format!("create_table!(4, CreateT, \"{sql}\");\n")
}

/// A `cdylib` (Python and Node extensions, C-ABI plugins) and a `staticlib` that hold a
/// migration and link a crate holding another one build. The guard's link symbol is
/// in the version script rustc writes for a `cdylib`: a symbol with spaces or `:` in it
/// failed the link there (`rust-lld: error: ...list:3: ; expected, but got :`).
#[test]
fn a_cdylib_and_a_staticlib_holding_migrations_link() {
    let workspace = core_workspace();
    for package in ["plugin_cdylib", "plugin_staticlib"] {
        build_ok(workspace.path(), package);
    }
    let debug = child_target_dir().join("debug");
    for file in [
        format!(
            "{}plugin_cdylib{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ),
        "libplugin_staticlib.a".to_owned(),
    ] {
        assert!(debug.join(&file).exists(), "{file} was not built");
    }
}

/// Fat LTO: the duplicate guard of version 11 is defined by two crates, and the build
/// fails naming it (LLVM's module linker reports the symbol defined twice).
#[test]
fn duplicate_version_fails_the_build_with_fat_lto() {
    let workspace = core_workspace();
    let output = cargo_build_profile(workspace.path(), "core_dup_app", "fat");
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "core_dup_app built with fat LTO:\n{err}"
    );
    assert!(
        err.contains("migrate__migration_version_11_is_defined_twice"),
        "the build error does not name version 11:\n{err}"
    );
}

/// Thin LTO: the link check is skipped (rustc 1.95 builds the program), and the
/// start-up check refuses the duplicate, naming the version and both migrations. If the
/// build starts failing instead, the link check works with thin LTO too: update
/// docs/discovery.md.
#[test]
fn duplicate_version_with_thin_lto_is_refused_at_start_up() {
    let workspace = core_workspace();
    let output = cargo_build_profile(workspace.path(), "core_dup_app", "thin");
    assert!(
        output.status.success(),
        "core_dup_app did not build with thin LTO (if the error names version 11, the link \
         check now works with thin LTO: update docs/discovery.md and this test):\n{}",
        stderr(&output)
    );
    let binary = child_target_dir()
        .join("thin")
        .join("core_dup_app")
        .with_extension(std::env::consts::EXE_EXTENSION);
    let output = Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let err = stderr(&output);
    assert!(!output.status.success(), "core_dup_app started: {err}");
    for expected in ["migration version 11 is used twice", "CoreA", "CoreB"] {
        assert!(
            err.contains(expected),
            "no {expected:?} in the start-up error: {err}"
        );
    }
}

/// A migration that a `macro_rules!` of another file generates: its file is the one
/// that invokes the macro (the file of the version literal). That file's name gives the
/// version checked (4, while the macro's file is named for 1), and its tokens the
/// checksum: changing the invoking file changes the checksum, changing the macro's file
/// does not.
#[test]
fn a_migration_generated_by_macro_rules_belongs_to_the_invoking_file() {
    let workspace = core_workspace();
    let app = workspace.path().join("macro_app");
    let checksum = || {
        build_ok(workspace.path(), "macro_app");
        let (ok, lines, err) = run("macro_app");
        assert!(ok, "macro_app failed: {err}");
        let [line] = lines.as_slice() else {
            panic!("macro_app printed {lines:?}");
        };
        let (version, checksum) = line.split_once(' ').expect("VERSION CHECKSUM");
        assert_eq!(version, "4");
        checksum.to_owned()
    };
    let first = checksum();

    fs::write(app.join(INVOKING_FILE), invocation(SQL_V2)).unwrap();
    let changed_sql = checksum();
    assert_ne!(
        first, changed_sql,
        "changing the SQL in the invoking file left the checksum as it was"
    );

    // Another helper in the macro's file: its tokens change, the migration does not.
    let macro_file =
        format!("{MACRO_RULES}\n/// Unused.\n#[allow(dead_code)]\npub fn helper() {{}}\n");
    fs::write(app.join(MACRO_FILE), macro_file).unwrap();
    assert_eq!(
        changed_sql,
        checksum(),
        "changing the macro's file changed the checksum: the macro's file is hashed"
    );
}
