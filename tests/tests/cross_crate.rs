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
//!   crate linked into it names that crate in its code (see [`linking_rule`]).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{copy_lock_file, debug_binary, path_dependency};

/// The target directory the child builds share, kept between runs so that a rerun
/// reuses the compiled dependencies.
fn child_target_dir() -> PathBuf {
    support::child_target_dir("cross-crate")
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
    let output = support::cargo_build(workspace, &["-p", package], &child_target_dir(), &[]);
    if !output.status.success() {
        // A failed link leaves the binary's object files behind, under new names each
        // time: remove them so that the shared target directory does not grow.
        let deps = child_target_dir().join("debug").join("deps");
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
        err.contains("migration version 5 is defined twice"),
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
            err.contains("migration version 5 is defined twice"),
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
