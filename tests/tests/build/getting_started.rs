//! docs/getting-started.md, followed literally: a new crate (`cargo new`) gets the page's
//! file blocks, in order, as they are written, is built offline with its dependency
//! rewritten to a path dependency on this workspace (as the page tells users to do before
//! the crates are published), and run; then the page's test runs with `cargo test`.
//!
//! A file block is a fenced `rs` or `toml` block whose first line names the file:
//! `// src/main.rs` (`// src/main.rs (continued)` appends to it) or `# Cargo.toml` (its
//! lines go under the `[dependencies]` that `cargo new` wrote). Other blocks are prose.
//!
//! The same crate with the mistakes of a new user's first hour, each of which used to
//! exit 0 and say nothing, must now fail and say what to add:
//! - the `mod migrations;` line left out of main.rs;
//! - `mod migrations;` moved to src/lib.rs so that another binary can share it, with
//!   main.rs not naming the library (and then fixed with the line the message gives);
//! - the page's test put in `tests/`.
//!
//! The crates share one target directory (`CARGO_TARGET_TMPDIR/getting-started`), so the
//! dependencies compile once. Each has a package name of its own, so that their binaries
//! do not overwrite each other there.

use migrate_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use migrate_sqlite::rusqlite::Connection;

const PAGE: &str = include_str!("../../../docs/getting-started.md");

/// The dependency line of the page's `Cargo.toml` block, which the child gets as a path
/// dependency instead.
const PUBLISHED_DEPENDENCY: &str = r#"migrate-sqlite = "0.1""#;

/// docs/cli.md, whose file blocks add the `migrate` command to this page's crate.
const CLI_PAGE: &str = include_str!("../../../docs/cli.md");

/// The crates the pages' `Cargo.toml` blocks name as published (`NAME = "0.1"`), which
/// the child gets as path dependencies on this workspace instead.
const PUBLISHED: &[&str] = &["migrate-sqlite", "migrate-build", "migrate-cli"];

/// One file block of the page.
#[derive(Clone, Debug)]
struct Block {
    path: String,
    append: bool,
    text: String,
}

/// The page's file blocks, in order.
fn file_blocks(page: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        if !matches!(info.trim(), "rs" | "toml") {
            continue;
        }
        let first = body.first().copied().unwrap_or_default();
        let Some(name) = first
            .strip_prefix("// ")
            .or_else(|| first.strip_prefix("# "))
        else {
            continue;
        };
        let path = name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        blocks.push(Block {
            path,
            append: name.contains("(continued)"),
            text: body[1..].join("\n") + "\n",
        });
    }
    blocks
}

fn target_dir() -> PathBuf {
    support::child_target_dir!("getting-started")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `cargo new --vcs none NAME` in `dir`: the crate's root.
fn cargo_new(dir: &Path, name: &str) -> PathBuf {
    let output = support::cargo(dir, "new", &["--vcs", "none", name], &target_dir(), &[]);
    assert!(
        output.status.success(),
        "cargo new failed:\n{}",
        text(&output.stderr)
    );
    dir.join(name)
}

/// Writes `blocks` into the crate at `root`, as the page says.
fn write_blocks(root: &Path, blocks: &[Block]) {
    for block in blocks {
        let path = root.join(&block.path);
        if block.path == "Cargo.toml" {
            assert!(
                block.text.contains(PUBLISHED_DEPENDENCY),
                "the page's Cargo.toml block has no `{PUBLISHED_DEPENDENCY}`:\n{}",
                block.text
            );
            let manifest = fs::read_to_string(&path).expect("cargo new wrote Cargo.toml");
            fs::write(&path, merge_manifest(&manifest, &block.text)).unwrap();
            continue;
        }
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut contents = if block.append {
            fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{} is continued before it is written", block.path))
        } else {
            String::new()
        };
        contents.push_str(&block.text);
        fs::write(&path, contents).unwrap();
    }
    support::copy_lock_file(root);
}

/// `manifest` with the lines of a `Cargo.toml` block added, each under its table
/// (`[package]`, `[dependencies]`, `[build-dependencies]`; a table the manifest lacks is
/// appended): a published migrate crate as a path dependency, and not twice when the
/// manifest has it already (both pages depend on migrate-sqlite).
fn merge_manifest(manifest: &str, block: &str) -> String {
    let mut out = manifest.to_owned();
    let mut table = "[dependencies]".to_owned();
    for line in block.lines() {
        let line = line.trim_end();
        if line.starts_with('[') {
            table = line.to_owned();
            if !out.lines().any(|l| l == table) {
                out = format!("{}\n\n{table}\n", out.trim_end());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let mut line = line.to_owned();
        if let Some(name) = PUBLISHED
            .iter()
            .find(|name| line.starts_with(&format!("{name} = \"0.1\"")))
        {
            if out.lines().any(|l| l.starts_with(&format!("{name} = "))) {
                continue;
            }
            line = line.replacen(
                &format!("{name} = \"0.1\""),
                &support::path_dependency(name),
                1,
            );
        }
        let header = format!("{table}\n");
        let at = out.find(&header).expect("the table is in the manifest") + header.len();
        out.insert_str(at, &format!("{line}\n"));
    }
    out
}

/// A new crate named `name` in `dir` with `blocks` written into it.
fn crate_from(dir: &Path, name: &str, blocks: &[Block]) -> PathBuf {
    let root = cargo_new(dir, name);
    write_blocks(&root, blocks);
    root
}

fn build(root: &Path) -> Output {
    support::cargo_build(root, &[], &target_dir(), &[])
}

fn build_ok(root: &Path) {
    let output = build(root);
    assert!(
        output.status.success(),
        "the crate at {} does not build:\n{}",
        root.display(),
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("warning"), "the build warns:\n{stderr}");
}

/// Runs the binary `name` of the last build in the directory `cwd`.
fn run(name: &str, cwd: &Path) -> Output {
    Command::new(support::debug_binary(&target_dir(), name))
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"))
}

fn cargo_test(root: &Path, args: &[&str]) -> Output {
    support::cargo(root, "test", args, &target_dir(), &[])
}

/// The page's blocks with `edit` applied to the text of each.
fn edited(blocks: &[Block], edit: impl Fn(&Block) -> String) -> Vec<Block> {
    blocks
        .iter()
        .map(|b| Block {
            text: edit(b),
            ..b.clone()
        })
        .collect()
}

const MOD_LINE: &str =
    "mod migrations; // compiles src/migrations.rs, and with it the migrations it names\n";

/// The page's blocks without the `mod migrations;` line of main.rs.
fn without_mod_line(blocks: &[Block]) -> Vec<Block> {
    let blocks = edited(blocks, |b| b.text.replace(MOD_LINE, ""));
    assert!(
        blocks.iter().all(|b| !b.text.contains("mod migrations;")),
        "the page's main.rs no longer has the line {MOD_LINE:?}"
    );
    blocks
}

/// What a program that contains no migrations prints from `main`: the message, naming
/// the rule and the lines to add, not the error's `Debug` fields.
fn assert_told_what_to_add(stderr: &str) {
    for expected in [
        "Error: no migrations found in this program",
        "compiled and linked",
        "`mod migrations;`",
        "`use my_lib as _;`",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("NoMigrations"), "{stderr}");
}

#[test]
fn the_page_has_the_files_of_a_crate() {
    let paths: Vec<String> = file_blocks(PAGE)
        .iter()
        .map(|b| format!("{}{}", b.path, if b.append { " +" } else { "" }))
        .collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            "build.rs",
            "src/migrations/m001_create_chat_users.rs",
            "src/migrations.rs",
            "src/main.rs",
            "src/main.rs +",
        ]
    );
    let steps = PAGE.lines().filter(|l| l.starts_with("## ")).count();
    assert!(
        PAGE.contains("in four steps, and a fifth") && steps == 5,
        "the step count in the introduction does not match the page's {steps} steps"
    );
}

/// Steps 1 to 4, as written: the program applies migration 1 and prints its status,
/// applies nothing the second time, and the page's test passes.
#[test]
fn the_page_followed_literally_builds_runs_and_tests() {
    let dir = tempfile::tempdir().unwrap();
    let root = crate_from(dir.path(), "app", &file_blocks(PAGE));
    build_ok(&root);

    let run_dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = run("app", run_dir.path());
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(
            stdout.starts_with("1 Create chat_users Applied {") && stdout.lines().count() == 1,
            "{stdout}"
        );
    }
    let db = Connection::open(run_dir.path().join("app.db")).unwrap();
    let tables: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'chat_users'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
    let history: Vec<i64> = db
        .prepare("SELECT version FROM migrate_history")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(history, [1]);

    let output = cargo_test(&root, &[]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("test tests::migrations_apply_and_revert ... ok"),
        "{stdout}"
    );
}

/// Steps 1 to 3 without the `mod` line: the migration's file is never compiled. The
/// program fails before it touches the database, and `main` prints what to add.
#[test]
fn without_the_mod_line_the_program_says_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let root = crate_from(
        dir.path(),
        "app_no_mod",
        &without_mod_line(&file_blocks(PAGE)),
    );
    build_ok(&root);
    let run_dir = tempfile::tempdir().unwrap();
    let output = run("app_no_mod", run_dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert_told_what_to_add(&text(&output.stderr));
    assert!(
        !run_dir.path().join("app.db").exists(),
        "the database was created"
    );
}

/// `mod migrations;` moved to src/lib.rs, so that a second binary can share them, with
/// main.rs unchanged otherwise: main.rs never names the library, which is not linked.
/// The line the message gives fixes it, for the binary and for a test in `tests/`.
#[test]
fn a_binary_that_never_names_its_library_says_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let mut blocks = without_mod_line(&file_blocks(PAGE));
    blocks.push(Block {
        path: "src/lib.rs".to_owned(),
        append: false,
        text: "pub mod migrations;\n".to_owned(),
    });
    let check = "#[test]\nfn migrations_apply_and_revert() {\n    \
                 let migrator = migrate_sqlite::Migrator::discovered().unwrap();\n    \
                 migrate_sqlite::testing::check_migrations(&migrator);\n}\n";
    for (path, text) in [
        ("tests/linked.rs", format!("use app_lib as _;\n\n{check}")),
        ("tests/not_linked.rs", check.to_owned()),
    ] {
        blocks.push(Block {
            path: path.to_owned(),
            append: false,
            text,
        });
    }
    let root = crate_from(dir.path(), "app_lib", &blocks);
    build_ok(&root);
    let run_dir = tempfile::tempdir().unwrap();
    let output = run("app_lib", run_dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert_told_what_to_add(&text(&output.stderr));

    let output = cargo_test(&root, &["--test", "not_linked"]);
    assert!(!output.status.success(), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("no migrations found in this program"),
        "{stdout}"
    );

    // The fix: `use my_lib as _;`, naming the library.
    let main = root.join("src/main.rs");
    let fixed = format!("use app_lib as _;\n{}", fs::read_to_string(&main).unwrap());
    fs::write(&main, fixed).unwrap();
    build_ok(&root);
    let output = run("app_lib", run_dir.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).starts_with("1 Create chat_users Applied {"));
    let output = cargo_test(&root, &["--test", "linked"]);
    assert!(output.status.success(), "{}", text(&output.stdout));
}

/// The page's test put in `tests/`, the usual place: a test crate of its own, which
/// cannot link a binary's modules. It fails, saying what to add, instead of passing
/// with no migrations.
#[test]
fn the_test_in_the_tests_folder_says_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let blocks: Vec<Block> = file_blocks(PAGE)
        .into_iter()
        .map(|b| {
            if b.append {
                // The page's `mod tests { .. }`, as a file of tests/.
                Block {
                    path: "tests/migrations.rs".to_owned(),
                    append: false,
                    text: b.text.replace("#[cfg(test)]\n", ""),
                }
            } else {
                b
            }
        })
        .collect();
    let root = crate_from(dir.path(), "app_tests_dir", &blocks);
    let output = cargo_test(&root, &["--test", "migrations"]);
    let stdout = text(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("no migrations found in this program")
            && stdout.contains("`use my_lib as _;`"),
        "{stdout}\n{}",
        text(&output.stderr)
    );
}

/// The line of the page's main.rs that links the libraries of migrations the crate
/// depends on, with the build script's `migrate_build::link_migration_crates()`.
const LINK_LINE: &str =
    "migrate_sqlite::link_migration_crates!(); // links the libraries of migrations (build.rs)\n";

/// `cargo run ARGS` in the crate at `root`, from `root`.
fn cargo_run(root: &Path, args: &[&str]) -> Output {
    support::cargo(root, "run", args, &target_dir(), &[])
}

/// This page, then docs/cli.md, followed literally: cli.md's file blocks add the
/// `migrate` binary to this page's crate (its migrations moved into the library, as
/// cli.md says). Both binaries work: a plain `cargo run` (the page's step 3) runs the
/// program, thanks to cli.md's `default-run`, and `cargo run --bin migrate` the command
/// on the same database. Without `default-run`, a plain `cargo run` is refused.
#[test]
fn the_command_line_page_builds_on_the_getting_started_crate() {
    let name = "app_cli";
    let cli_blocks = file_blocks(CLI_PAGE);
    let paths: Vec<&str> = cli_blocks.iter().map(|b| b.path.as_str()).collect();
    assert_eq!(paths, ["Cargo.toml", "src/lib.rs", "src/bin/migrate.rs"]);
    let instruction = "In `src/main.rs`, `use app as _;` replaces `mod migrations;`";
    assert!(
        CLI_PAGE.contains(instruction),
        "cli.md no longer says {instruction:?}"
    );
    // The package's name is the page's `app` (the crates of these tests share a target
    // directory, so each has a name of its own).
    let rename = |text: &str| {
        text.replace(
            "default-run = \"app\"",
            &format!("default-run = \"{name}\""),
        )
        .replace("use app as _;", &format!("use {name} as _;"))
    };
    let mut blocks = file_blocks(PAGE);
    blocks.extend(edited(&cli_blocks, |b| rename(&b.text)));
    let dir = tempfile::tempdir().unwrap();
    let root = crate_from(dir.path(), name, &blocks);
    let main = root.join("src/main.rs");
    let source = fs::read_to_string(&main).unwrap();
    assert!(source.contains(MOD_LINE), "{source}");
    fs::write(&main, source.replace(MOD_LINE, &rename("use app as _;\n"))).unwrap();
    build_ok(&root);

    let output = cargo_run(&root, &["--quiet"]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with("1 Create chat_users Applied {"),
        "plain `cargo run`:\n{stdout}\n{}",
        text(&output.stderr)
    );
    let output = cargo_run(
        &root,
        &[
            "--quiet",
            "--bin",
            "migrate",
            "--",
            "--database",
            "app.db",
            "status",
        ],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success()
            && stdout.contains("Create chat_users")
            && stdout.contains("applied"),
        "`cargo run --bin migrate -- status`:\n{stdout}\n{}",
        text(&output.stderr)
    );

    // What `default-run` is for.
    let manifest = root.join("Cargo.toml");
    let with = fs::read_to_string(&manifest).unwrap();
    let line = with
        .lines()
        .find(|l| l.starts_with("default-run"))
        .expect("cli.md's default-run is in Cargo.toml")
        .to_owned();
    fs::write(&manifest, with.replace(&format!("{line}\n"), "")).unwrap();
    let output = cargo_run(&root, &["--quiet"]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("could not determine which binary to run"),
        "{stderr}"
    );
}

/// A library of migrations added to the page's crate's `[dependencies]` and never named
/// in its code: the page's build.rs and `link_migration_crates!()` line link it, so its
/// migration is applied with the crate's own. Without that line, the program would
/// leave the library out, exit 0 and say nothing: what the page's two lines are for.
#[test]
fn a_library_of_migrations_in_the_dependencies_is_linked() {
    let blocks = file_blocks(PAGE);
    let build = blocks
        .iter()
        .find(|b| b.path == "build.rs")
        .expect("a build.rs block");
    assert!(
        build
            .text
            .contains("migrate_build::link_migration_crates();"),
        "{}",
        build.text
    );
    let main = blocks
        .iter()
        .find(|b| b.path == "src/main.rs" && !b.append)
        .expect("a src/main.rs block");
    assert!(main.text.contains(LINK_LINE), "{}", main.text);

    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("auth_migrations");
    fs::create_dir_all(library.join("src")).unwrap();
    fs::write(
        library.join("Cargo.toml"),
        format!(
            "[package]\nname = \"auth_migrations\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n{}\n",
            support::path_dependency("migrate-sqlite")
        ),
    )
    .unwrap();
    fs::write(
        library.join("src/lib.rs"),
        "//! Migrations shared by several programs.\n\n\
         use migrate_sqlite::{migration, BoxError, Db, Migration};\n\n\
         /// The tokens table.\n\
         #[migration(version = 2, description = \"Create auth_tokens\", irreversible)]\n\
         pub struct CreateAuthTokens;\n\n\
         impl Migration for CreateAuthTokens {\n    \
         fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {\n        \
         db.execute(\"CREATE TABLE auth_tokens (token TEXT PRIMARY KEY)\")\n    }\n}\n",
    )
    .unwrap();
    let root = crate_from(dir.path(), "app_auth", &blocks);
    let manifest = root.join("Cargo.toml");
    let dependency = "auth_migrations = { path = \"../auth_migrations\" }";
    let with = merge_manifest(&fs::read_to_string(&manifest).unwrap(), dependency);
    fs::write(&manifest, with).unwrap();
    build_ok(&root);
    let run_dir = tempfile::tempdir().unwrap();
    let output = run("app_auth", run_dir.path());
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let versions: Vec<&str> = stdout
        .lines()
        .map(|l| &l[..l.find(" Applied").unwrap_or(l.len())])
        .collect();
    assert_eq!(
        versions,
        ["1 Create chat_users", "2 Create auth_tokens"],
        "{stdout}"
    );

    // The same crate without the page's line: the library is left out, silently.
    let main = root.join("src/main.rs");
    let source = fs::read_to_string(&main).unwrap();
    fs::write(&main, source.replace(LINK_LINE, "")).unwrap();
    build_ok(&root);
    let run_dir = tempfile::tempdir().unwrap();
    let output = run("app_auth", run_dir.path());
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        !stdout.contains("auth_tokens") && stdout.lines().count() == 1,
        "without the line the library is still linked (then the page's line is not \
         what links it):\n{stdout}"
    );
}
