//! End-to-end tests of `migrate_build::link_migration_crates()` and
//! `link_migration_crates!()`: a generated Cargo workspace with a library of migrations,
//! `auth_migrations`, and binaries that depend on it but never name it in their code,
//! built with `cargo build --offline` in a child process (see `cross_crate.rs`, whose
//! target directory the builds share, so the workspace's crates are compiled once).
//!
//! What they pin down:
//! - without the build-script call, the library's migration is not in the binary, and
//!   `Migrator::discovered()` refuses with `Error::NoMigrations`;
//! - with it (and the macro line), the binary discovers the migration, also when the
//!   dependency is renamed (`auth = { package = "auth_migrations", .. }`) and when it is
//!   optional and this build enables its feature;
//! - a crate with migrations reachable only through another crate that never names it
//!   fails the build, naming the crate, the path to it and the line to add; with the
//!   line added, it is discovered;
//! - the generated lines compile without warnings under `#![deny(warnings)]`;
//! - the build script reruns when a manifest of the graph changes, not on every build.

use migrate_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{copy_lock_file, debug_binary, path_dependency};

/// The migration `auth_migrations` holds.
const AUTH_LINE: &str = "21 AuthUsers";

fn child_target_dir() -> PathBuf {
    support::child_target_dir!("cross-crate")
}

/// One test of this file at a time: they share a target directory, where two builds of
/// `app_linked` from two generated workspaces would take turns rerunning its build script
/// (its fingerprint names the other workspace's manifests), and `generated_file` reads
/// the newest build's output.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A `Cargo.toml`: `extra` goes after `[package]` (a `build` key, `[features]`, ...).
fn manifest(name: &str, deps: &[String], build_deps: bool, extra: &str) -> String {
    let build_deps = if build_deps {
        format!(
            "\n[build-dependencies]\n{}\n",
            path_dependency("migrate-build")
        )
    } else {
        String::new()
    };
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\
         {extra}\n[dependencies]\n{}\n{build_deps}",
        deps.join("\n")
    )
}

fn sibling(krate: &str) -> String {
    format!("{krate} = {{ path = '../{krate}' }}")
}

/// The binary: `items` at the top, then a `main` that prints one `VERSION TYPE` line per
/// migration `Migrator::discovered()` finds, or its error on stderr (exit code 1).
fn probe_bin(items: &str) -> String {
    format!(
        r#"#![deny(warnings, rust_2018_idioms, unused_qualifications)]
{items}

fn main() {{
    match migrate_core::Migrator::discovered() {{
        Ok(migrator) => {{
            for m in migrator.migrations() {{
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

const BUILD_RS: &str = "fn main() {\n    migrate_build::link_migration_crates();\n}\n";
const MACRO_LINE: &str = "migrate_core::link_migration_crates!();";

/// The binaries of the generated workspace: (package, dependencies, build script and
/// macro line, `[features]` and the like).
fn binaries() -> Vec<(&'static str, Vec<String>, bool, &'static str)> {
    let core = path_dependency("migrate-core");
    vec![
        // Depends on auth_migrations, names nothing, no build script.
        (
            "app_plain",
            vec![sibling("auth_migrations"), core.clone()],
            false,
            "",
        ),
        (
            "app_linked",
            vec![sibling("auth_migrations"), core.clone()],
            true,
            "",
        ),
        (
            "app_renamed",
            vec![
                "auth = { package = 'auth_migrations', path = '../auth_migrations' }".to_owned(),
                core.clone(),
            ],
            true,
            "",
        ),
        (
            "app_optional",
            vec![
                "auth_migrations = { path = '../auth_migrations', optional = true }".to_owned(),
                core.clone(),
            ],
            true,
            "\n[features]\nauth = [\"dep:auth_migrations\"]\n",
        ),
        // auth_migrations only through mid, which never names it.
        (
            "app_transitive",
            vec![sibling("mid"), core.clone()],
            true,
            "",
        ),
        // The same, with auth_migrations added as the build's error says.
        (
            "app_transitive_fixed",
            vec![sibling("mid"), sibling("auth_migrations"), core],
            true,
            "",
        ),
    ]
}

/// Writes the generated workspace into a new temporary directory: `auth_migrations`
/// (migration 21 through migrate-core), `mid` (depends on it, never names it), and the
/// [`binaries`].
fn generated_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, contents: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create folder");
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    };
    let binaries = binaries();
    let mut members = vec!["auth_migrations", "mid"];
    members.extend(binaries.iter().map(|b| b.0));
    write(
        "Cargo.toml",
        &format!("[workspace]\nresolver = \"3\"\nmembers = {members:?}\n"),
    );
    copy_lock_file(root);

    write(
        "auth_migrations/Cargo.toml",
        &manifest(
            "auth_migrations",
            &[path_dependency("migrate-core")],
            false,
            "",
        ),
    );
    write(
        "auth_migrations/src/lib.rs",
        r#"use migrate_core::{BoxError, Db, Migration, migration};

#[migration(version = 21, description = "Create auth users", irreversible)]
pub struct AuthUsers;

impl Migration for AuthUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE auth_users (id INTEGER PRIMARY KEY)")
    }
}
"#,
    );
    write(
        "mid/Cargo.toml",
        &manifest("mid", &[sibling("auth_migrations")], false, ""),
    );
    write(
        "mid/src/lib.rs",
        "//! Depends on auth_migrations, never names it.\n\n/// Something to call.\npub fn marker() {}\n",
    );
    for (name, deps, linked, extra) in &binaries {
        write(
            &format!("{name}/Cargo.toml"),
            &manifest(name, deps, *linked, extra),
        );
        if *linked {
            write(&format!("{name}/build.rs"), BUILD_RS);
        }
        let items = if *linked { MACRO_LINE } else { "" };
        write(&format!("{name}/src/main.rs"), &probe_bin(items));
    }
    dir
}

fn cargo_build(workspace: &Path, args: &[&str]) -> Output {
    support::cargo_build(workspace, args, &child_target_dir(), &[])
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Builds `package` (with `args` added), runs it, and returns its exit success, stdout
/// lines and stderr.
fn build_and_run(workspace: &Path, package: &str, args: &[&str]) -> (bool, Vec<String>, String) {
    let mut all = vec!["-p", package];
    all.extend(args);
    let output = cargo_build(workspace, &all);
    assert!(
        output.status.success(),
        "building `{package}` failed:\n{}",
        stderr(&output)
    );
    let binary = debug_binary(&child_target_dir(), package);
    let output = Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
        stderr(&output),
    )
}

/// (a) The binary depends on `auth_migrations` but never names it, and has no build
/// script: the crate is not linked, so its migration is not in the program and
/// discovery refuses, naming the rule.
#[test]
fn without_the_call_an_unnamed_dependency_is_left_out() {
    let _serial = serial();
    let workspace = generated_workspace();
    let (ok, lines, err) = build_and_run(workspace.path(), "app_plain", &[]);
    assert!(!ok, "app_plain discovered {lines:?}");
    assert!(lines.is_empty(), "{lines:?}");
    assert!(err.contains("no migrations found in this program"), "{err}");
}

/// (b) The same binary with `link_migration_crates()` in its build script and
/// `link_migration_crates!()` in `main.rs`: the migration is discovered. The macro's
/// lines compile under `#![deny(warnings, rust_2018_idioms, ..)]`.
#[test]
fn the_call_links_an_unnamed_dependency() {
    let _serial = serial();
    let workspace = generated_workspace();
    let (ok, lines, err) = build_and_run(workspace.path(), "app_linked", &[]);
    assert!(ok, "app_linked failed: {err}");
    assert_eq!(lines, [AUTH_LINE]);
}

/// The build script reruns when a manifest of the graph changes, and only then: a build
/// with nothing changed does not run it (nor the cargo commands it runs).
#[test]
fn the_build_script_reruns_only_when_a_manifest_changes() {
    let _serial = serial();
    let workspace = generated_workspace();
    let build = || {
        let output = cargo_build(workspace.path(), &["-p", "app_linked", "-v"]);
        let err = stderr(&output);
        assert!(
            output.status.success(),
            "building app_linked failed:\n{err}"
        );
        err.lines().any(|l| {
            l.contains("Running") && l.contains("app_linked-") && l.contains("build-script-build")
        })
    };
    build();
    assert!(
        !build(),
        "a build with nothing changed ran the build script again"
    );
    let manifest = workspace.path().join("auth_migrations").join("Cargo.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, text + "\n# changed\n").unwrap();
    assert!(
        build(),
        "a change to the Cargo.toml of a path dependency did not rerun the build script"
    );
}

/// (c) A renamed dependency (`auth = { package = "auth_migrations", .. }`) is named as
/// the code knows it, `auth`.
#[test]
fn a_renamed_dependency_is_linked() {
    let _serial = serial();
    let workspace = generated_workspace();
    let (ok, lines, err) = build_and_run(workspace.path(), "app_renamed", &[]);
    assert!(ok, "app_renamed failed: {err}");
    assert_eq!(lines, [AUTH_LINE]);
    let out_file = generated_file("app_renamed");
    assert!(out_file.contains("\nuse ::auth as _;\n"), "{out_file}");
}

/// An optional dependency is linked when this build enables it, and not named (which
/// would not compile) when it does not.
#[test]
fn an_optional_dependency_is_linked_when_enabled() {
    let _serial = serial();
    let workspace = generated_workspace();
    let (ok, lines, err) = build_and_run(workspace.path(), "app_optional", &[]);
    assert!(!ok, "app_optional without the feature discovered {lines:?}");
    assert!(err.contains("no migrations found in this program"), "{err}");
    let (ok, lines, err) = build_and_run(workspace.path(), "app_optional", &["--features", "auth"]);
    assert!(ok, "app_optional --features auth failed: {err}");
    assert_eq!(lines, [AUTH_LINE]);
}

/// (d) `auth_migrations` reached only through `mid`, which never names it: the binary
/// cannot name it either (it is not in its `[dependencies]`), so the build fails, naming
/// the crate, the path and the line to add. With the line added
/// (`app_transitive_fixed`), the migration is discovered.
#[test]
fn a_transitive_dependency_fails_the_build_until_it_is_a_direct_one() {
    let _serial = serial();
    let workspace = generated_workspace();
    let output = cargo_build(workspace.path(), &["-p", "app_transitive"]);
    let err = stderr(&output);
    assert!(!output.status.success(), "app_transitive built:\n{err}");
    for expected in [
        "`auth_migrations` 0.1.0 holds migrations",
        "app_transitive reaches it only through app_transitive -> mid -> auth_migrations",
        "add `auth_migrations = \"0.1.0\"` (or its path or git source) to [dependencies] in \
         the Cargo.toml of app_transitive",
    ] {
        assert!(err.contains(expected), "no {expected:?} in:\n{err}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "the build script panicked:\n{err}"
    );

    let (ok, lines, err) = build_and_run(workspace.path(), "app_transitive_fixed", &[]);
    assert!(ok, "app_transitive_fixed failed: {err}");
    assert_eq!(lines, [AUTH_LINE]);
}

/// The file the last build of `package` generated: the newest
/// `build/PACKAGE-*/out/migrate_link_migration_crates.rs`.
fn generated_file(package: &str) -> String {
    let build = child_target_dir().join("debug").join("build");
    let prefix = format!("{package}-");
    let newest = fs::read_dir(&build)
        .expect("the build folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| {
            e.path()
                .join("out")
                .join("migrate_link_migration_crates.rs")
        })
        .filter(|p| p.exists())
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no generated file for {package} in {}", build.display()));
    fs::read_to_string(newest).expect("read the generated file")
}
