//! What a user sees where a program's migrations meet a link other than a plain
//! `cargo build` of a Rust binary, each case built for real in a generated workspace
//! (child `cargo` builds, offline, into the target directory that
//! `tests/tests/build/cross_crate.rs` uses, so the dependencies compile once for both):
//!
//! - a `staticlib` holding migrations, which names a library of migrations, linked into
//!   a C program by `cc`: the usual link (`cc main.c libx.a`) keeps only the archive
//!   members the program needs, and with them only the migrations that happen to sit in
//!   them; linked as docs/discovery.md says (`-Wl,--whole-archive`), every migration is
//!   found;
//! - `lto = "fat"` with a duplicate version across crates: the error and the warning the
//!   build prints, as docs/errors.md quotes them;
//! - `cargo check` (what rust-analyzer runs) with a duplicate version across crates: it
//!   passes, as docs/errors.md says; only a build reports it.

use migrate_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DISCOVERY: &str = include_str!("../../../docs/discovery.md");
const ERRORS: &str = include_str!("../../../docs/errors.md");

/// The command line docs/discovery.md gives for linking a staticlib into a C program,
/// with the library's name as the page writes it.
const WHOLE_ARCHIVE_LINK: &str =
    "cc main.c -Wl,--whole-archive libplugin.a -Wl,--no-whole-archive -o main";

/// The target directory shared with `tests/tests/build/cross_crate.rs`.
fn child_target_dir() -> PathBuf {
    support::child_target_dir!("cross-crate")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A library of one irreversible migration `ty` (version `version`) through migrate-core.
fn migration(version: u64, ty: &str) -> String {
    format!(
        r#"use migrate_core::{{BoxError, Db, Migration, migration}};

#[migration(version = {version}, description = "{ty}", irreversible)]
pub struct {ty};

impl Migration for {ty} {{
    fn up(&self, _db: &mut dyn Db) -> Result<(), BoxError> {{
        Ok(())
    }}
}}
"#
    )
}

fn manifest(name: &str, deps: &[&str], extra: &str) -> String {
    let mut lines = vec![support::path_dependency("migrate-core")];
    lines.extend(
        deps.iter()
            .map(|dep| format!("{dep} = {{ path = '../{dep}' }}")),
    );
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\
         {extra}\n[dependencies]\n{}\n",
        lines.join("\n")
    )
}

/// The generated workspace, with a `fat` profile (release with `lto = "fat"`):
///
/// - `outside_lib`, a library of migrations 21, 22 and 23, each in a module of its own;
/// - `outside_staticlib`, a `staticlib` (and a `cdylib`) with migration 24 in `lib.rs`
///   and 25 in a module,
///   which names `outside_lib` (`use outside_lib as _;`) and exports
///   `migration_versions`, the versions it discovers;
/// - `outside_dup_a` and `outside_dup_b` (both version 31) and `outside_dup_app`, which
///   names both.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, contents: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create folder");
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    };
    let members = [
        "outside_lib",
        "outside_staticlib",
        "outside_dup_a",
        "outside_dup_b",
        "outside_dup_app",
    ];
    write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = {members:?}\n\n\
             [profile.fat]\ninherits = \"release\"\nlto = \"fat\"\n"
        ),
    );
    support::copy_lock_file(root);

    write("outside_lib/Cargo.toml", &manifest("outside_lib", &[], ""));
    write(
        "outside_lib/src/lib.rs",
        "mod m21;\nmod m22;\nmod m23;\n\n/// Something to call.\npub fn marker() {}\n",
    );
    for (version, ty) in [(21, "Lib21"), (22, "Lib22"), (23, "Lib23")] {
        write(
            &format!("outside_lib/src/m{version}.rs"),
            &migration(version, ty),
        );
    }

    write(
        "outside_staticlib/Cargo.toml",
        &manifest(
            "outside_staticlib",
            &["outside_lib"],
            "\n[lib]\ncrate-type = [\"staticlib\", \"cdylib\"]\n",
        ),
    );
    write(
        "outside_staticlib/src/lib.rs",
        &format!(
            "use outside_lib as _;\n\nmod m25;\n\n{}\n\
             /// Writes the versions this library discovers, ascending, into `out` (at most\n\
             /// `len`); returns how many there are.\n\
             #[unsafe(no_mangle)]\n\
             pub extern \"C\" fn migration_versions(out: *mut u64, len: usize) -> usize {{\n    \
             let versions: Vec<u64> = migrate_core::discovered_migrations()\n        \
             .map(|all| all.iter().map(|m| m.version()).collect())\n        \
             .unwrap_or_default();\n    \
             // SAFETY: the caller passes an array of `len` elements.\n    \
             let out = unsafe {{ std::slice::from_raw_parts_mut(out, len) }};\n    \
             for (slot, version) in out.iter_mut().zip(&versions) {{\n        \
             *slot = *version;\n    }}\n    \
             versions.len()\n}}\n",
            migration(24, "Static24")
        ),
    );
    write("outside_staticlib/src/m25.rs", &migration(25, "Static25"));

    for (name, ty) in [("outside_dup_a", "DupA"), ("outside_dup_b", "DupB")] {
        write(&format!("{name}/Cargo.toml"), &manifest(name, &[], ""));
        write(&format!("{name}/src/lib.rs"), &migration(31, ty));
    }
    write(
        "outside_dup_app/Cargo.toml",
        &manifest("outside_dup_app", &["outside_dup_a", "outside_dup_b"], ""),
    );
    write(
        "outside_dup_app/src/main.rs",
        "use outside_dup_a as _;\nuse outside_dup_b as _;\n\nfn main() {\n    \
         let found = migrate_core::discovered_migrations().map(|m| m.len());\n    \
         println!(\"{found:?}\");\n}\n",
    );
    write(
        "main.c",
        "#include <stdint.h>\n#include <stdio.h>\n\n\
         size_t migration_versions(uint64_t *out, size_t len);\n\n\
         int main(void) {\n    uint64_t versions[16];\n    \
         size_t n = migration_versions(versions, 16);\n    \
         for (size_t i = 0; i < n && i < 16; i++) {\n        \
         printf(\"%llu\\n\", (unsigned long long)versions[i]);\n    }\n    return 0;\n}\n",
    );
    dir
}

/// `cargo SUBCOMMAND --offline -p PACKAGE ARGS` in the workspace, into the shared target
/// directory.
fn cargo(workspace: &Path, subcommand: &str, package: &str, args: &[&str]) -> Output {
    let mut all = vec!["-p", package];
    all.extend_from_slice(args);
    let output = support::cargo(workspace, subcommand, &all, &child_target_dir(), &[]);
    if !output.status.success() {
        // A failed link leaves the package's object files behind, under new names each
        // time: remove them so that the shared target directory does not grow.
        let prefix = format!("{package}-");
        for profile in ["debug", "fat"] {
            let deps = child_target_dir().join(profile).join("deps");
            for entry in fs::read_dir(&deps).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(&prefix) && name.ends_with(".rcgu.o") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }
    output
}

/// `cc ARGS` in `dir`, then the program it linked: the versions it prints.
fn link_and_run(dir: &Path, args: &[&str]) -> Vec<u64> {
    let output = Command::new("cc")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cc: {e}"));
    assert!(
        output.status.success(),
        "cc {args:?} failed:\n{}",
        text(&output.stderr)
    );
    let output = Command::new(dir.join("main"))
        .output()
        .expect("run the C program");
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| line.parse().expect("a version"))
        .collect()
}

/// A staticlib linked into a C program by `cc`, as docs/discovery.md says
/// (`-Wl,--whole-archive`): every migration is found, the library's own and those of the
/// crate it names. Linked the usual way (`cc main.c libplugin.a`), the linker takes only
/// the archive members the program needs: the migrations of any other member are
/// missing, with nothing to say so, which is why the page gives the flag. (If the usual
/// link ever finds them all, the page can say so: update it and this test.) The same
/// crate built as a `cdylib` and linked dynamically has them all.
#[test]
fn a_staticlib_linked_into_a_c_program_with_whole_archive_has_every_migration() {
    assert!(
        DISCOVERY.contains(WHOLE_ARCHIVE_LINK),
        "docs/discovery.md no longer gives `{WHOLE_ARCHIVE_LINK}`"
    );
    let workspace = workspace();
    let output = cargo(workspace.path(), "build", "outside_staticlib", &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let dir = workspace.path();
    fs::copy(
        child_target_dir().join("debug/liboutside_staticlib.a"),
        dir.join("libplugin.a"),
    )
    .expect("the staticlib was built");

    let args: Vec<&str> = WHOLE_ARCHIVE_LINK.split(' ').skip(1).collect();
    assert_eq!(link_and_run(dir, &args), [21, 22, 23, 24, 25]);

    let usual = link_and_run(dir, &["main.c", "libplugin.a", "-o", "main"]);
    assert_eq!(
        usual,
        [24],
        "the usual link found {usual:?}: update docs/discovery.md, which says it finds \
         only the migration of the module the program calls into"
    );

    // The same crate as a `cdylib`: rustc links it, and keeps every entry.
    fs::copy(
        child_target_dir().join(format!(
            "debug/{}outside_staticlib{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )),
        dir.join("libplugin.so"),
    )
    .expect("the cdylib was built");
    let args = [
        "main.c",
        "-L.",
        "-lplugin",
        "-Wl,-rpath,$ORIGIN",
        "-o",
        "main",
    ];
    assert_eq!(link_and_run(dir, &args), [21, 22, 23, 24, 25]);
}

/// The lines of `stderr` that start with `prefix`.
fn lines_starting(stderr: &str, prefix: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// Fat LTO and a version defined by two crates: the build fails, and the user sees the
/// two lines docs/errors.md quotes: LLVM's warning, which names the version, and the
/// error, which names one of the two crates' modules ("failed to load bitcode of
/// module"). The other crate is named by a build without LTO (see
/// `cross_crate.rs`, `duplicate_version_across_crates_fails_the_build`).
#[test]
fn fat_lto_reports_a_duplicate_version_as_errors_md_quotes_it() {
    let workspace = workspace();
    let output = cargo(
        workspace.path(),
        "build",
        "outside_dup_app",
        &["--profile", "fat"],
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "built with fat LTO:\n{stderr}");
    let warning = "warning: Linking globals named \
                   'migrate__migration_version_31_is_defined_twice__give_one_of_the_two_migrations_another_version': \
                   symbol multiply defined!";
    assert!(stderr.contains(warning), "no {warning:?} in:\n{stderr}");
    let errors = lines_starting(&stderr, "error: failed to load bitcode of module \"");
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("outside_dup_a-") || errors[0].contains("outside_dup_b-"),
        "the error names neither crate: {}",
        errors[0]
    );
    for quoted in [
        "warning: Linking globals named 'migrate__migration_version_3_is_defined_twice__give_one_of_the_two_migrations_another_version': symbol multiply defined!",
        "error: failed to load bitcode of module \"",
    ] {
        assert!(
            ERRORS.contains(quoted),
            "docs/errors.md does not quote {quoted:?}"
        );
    }
}

/// `cargo check` (and so rust-analyzer, which runs it) does not link, so a version that
/// two crates define passes it; `cargo build` of the same package fails, naming the
/// version. docs/errors.md says so.
#[test]
fn cargo_check_passes_a_duplicate_version_across_crates_that_the_build_reports() {
    assert!(
        ERRORS.contains("`cargo check` (and so rust-analyzer) does not report it"),
        "docs/errors.md no longer says that cargo check passes it"
    );
    let workspace = workspace();
    let output = cargo(workspace.path(), "check", "outside_dup_app", &[]);
    assert!(
        output.status.success(),
        "cargo check now reports the duplicate (update docs/errors.md):\n{}",
        text(&output.stderr)
    );
    let output = cargo(workspace.path(), "build", "outside_dup_app", &[]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "built:\n{stderr}");
    assert!(
        stderr.contains("migrate__migration_version_31_is_defined_twice"),
        "{stderr}"
    );
}
