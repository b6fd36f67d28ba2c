//! Linking every crate of the package's dependency graph that holds migrations: the
//! driver ([`try_link_migration_crates`]) runs the two cargo commands and writes
//! [`LINK_FILE`]; [`graph`] reads their output and finds the crates.

mod graph;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::error::{Error, Result};
use crate::one_line;

/// The packages whose attribute registers migrations: a crate that depends on one of
/// them directly is a crate that may hold migrations.
pub const RUNTIME_PACKAGES: &[&str] = &[
    "migrate-core",
    "migrate-macros",
    "migrate-sqlite",
    "migrate-postgres",
];

/// The name of the file [`link_migration_crates`] writes
/// into `OUT_DIR`, which `link_migration_crates!()` includes.
pub const LINK_FILE: &str = "migrate_link_migration_crates.rs";

/// Links every crate of the package's dependency graph that holds migrations, so that
/// none is left out of the program: call it from the build script of the package whose
/// binary migrates, and put `link_migration_crates!()` in the binary. Errors are
/// reported to Cargo, which fails the build, as
/// [`Migrations::generate_or_report`](crate::Migrations::generate_or_report) does; [`try_link_migration_crates`] returns them.
///
/// ```toml
/// [build-dependencies]
/// migrate-build = "0.1"
/// ```
///
/// ```no_run
/// // build.rs
/// fn main() {
///     migrate_build::link_migration_crates();
/// }
/// ```
///
/// ```text
/// // src/main.rs
/// migrate_sqlite::link_migration_crates!();
/// ```
///
/// The linker keeps a crate's migrations only when the program's code names the crate
/// (docs/discovery.md, "The rule"); a dependency nothing names is silently left out.
/// This reads the package's resolved graph of normal dependencies for the target being
/// built, with the features this build enables (`cargo metadata --no-deps` and
/// `cargo tree`, offline, with `Cargo.lock` as it is), and writes
/// `$OUT_DIR/`[`LINK_FILE`] with one `use ::name as _;` per crate that depends directly
/// on one of [`RUNTIME_PACKAGES`] (not counting those themselves, nor proc macros and
/// what is behind them, which are not linked), named as the package's code names it
/// (renames included). `link_migration_crates!()` includes that file.
///
/// A crate that holds migrations but is reachable only through another crate cannot be
/// named by the package: the build fails naming it, the path to it, and the line to add
/// to `[dependencies]`.
///
/// The build script reruns when the package's `Cargo.toml`, the workspace's
/// `Cargo.lock` or the manifest of a path dependency in the graph changes; each run
/// costs the two cargo commands (about 0.1 to 0.4 s).
pub fn link_migration_crates() {
    if let Err(error) = try_link_migration_crates() {
        for problem in error.problems() {
            println!("cargo::error={}", one_line(problem));
        }
    }
}

/// [`link_migration_crates`], returning its errors instead of reporting them to Cargo.
/// Returns the crate names it links, as the package's code names them.
///
/// # Errors
///
/// [`Error::NotInBuildScript`] outside a build script; [`Error::CargoNotRun`],
/// [`Error::CargoFailed`] or [`Error::CargoOutput`] when the dependency graph cannot be
/// read; [`Error::NotADirectDependency`] for each crate that holds migrations but is not
/// a direct dependency ([`Error::Several`] when there are more).
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), migrate_build::Error> {
///     let linked = migrate_build::try_link_migration_crates()?;
///     println!("cargo::warning=linking the migrations of {linked:?}");
///     Ok(())
/// }
/// ```
pub fn try_link_migration_crates() -> Result<Vec<String>> {
    let var = |var: &'static str| env::var_os(var).ok_or(Error::NotInBuildScript { var });
    let manifest_path = PathBuf::from(var("CARGO_MANIFEST_DIR")?).join("Cargo.toml");
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let target = var("TARGET")?;
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("cargo::rerun-if-changed={}", manifest_path.display());

    let common = |args: &[&str]| -> Vec<std::ffi::OsString> {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend([
            "--offline".into(),
            "--locked".into(),
            "--manifest-path".into(),
        ]);
        all.push(manifest_path.clone().into_os_string());
        all
    };
    let metadata_args = common(&["metadata", "--no-deps", "--format-version", "1"]);
    let metadata = run_cargo(&cargo, &metadata_args)?;
    let manifest = graph::parse_manifest(&metadata, &manifest_path, "cargo metadata --no-deps")?;
    let lock_file = manifest.workspace_root.join("Cargo.lock");
    if lock_file.exists() {
        println!("cargo::rerun-if-changed={}", lock_file.display());
    }

    let mut tree_args = common(&[
        "tree",
        "--edges",
        "normal",
        "--prefix",
        "depth",
        "--format",
        graph::TREE_FORMAT,
        "--no-default-features",
    ]);
    // The package, not the workspace's default members, is the one root of the tree.
    let package = format!("{}@{}", manifest.name, manifest.version);
    tree_args.extend([
        "--package".into(),
        package.into(),
        "--target".into(),
        target,
    ]);
    let features = graph::enabled_features(&manifest, |v| env::var_os(v).is_some());
    if !features.is_empty() {
        tree_args.extend(["--features".into(), features.join(",").into()]);
    }
    let tree = run_cargo(&cargo, &tree_args)?;
    let found = graph::find(&manifest, &tree, "cargo tree")?;
    for path in &found.manifests {
        if *path != manifest_path {
            println!("cargo::rerun-if-changed={}", path.display());
        }
    }

    let code = graph::render(&manifest.name, &found.crates);
    let out_file = out_dir.join(LINK_FILE);
    if fs::read_to_string(&out_file).ok().as_deref() != Some(code.as_str()) {
        fs::write(&out_file, code).map_err(|e| Error::io("write", &out_file, e))?;
    }
    Ok(found.crates)
}

/// Runs `cargo ARGS` and returns its standard output.
fn run_cargo(cargo: &OsString, args: &[OsString]) -> Result<String> {
    let command = format!(
        "cargo {}",
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output = Command::new(cargo)
        .args(args)
        .output()
        .map_err(|source| Error::CargoNotRun {
            command: command.clone(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::CargoFailed {
            command,
            stderr: stderr.trim().replace('\n', " / "),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| Error::CargoOutput {
        command,
        detail: "not UTF-8".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_migration_crates_needs_a_build_script() {
        if env::var_os("OUT_DIR").is_none() {
            let err = try_link_migration_crates().unwrap_err();
            assert!(matches!(err, Error::NotInBuildScript { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains("call migrate_build::link_migration_crates() from a build script"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_failing_cargo_is_an_error_that_says_what_to_do() {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        let args: Vec<OsString> = vec![
            "metadata".into(),
            "--no-deps".into(),
            "--offline".into(),
            "--manifest-path".into(),
            manifest.into_os_string(),
        ];
        let err = run_cargo(&cargo, &args).unwrap_err();
        assert!(matches!(err, Error::CargoFailed { .. }), "{err}");
        let message = err.to_string();
        for part in [
            "`cargo metadata --no-deps --offline --manifest-path ",
            "` failed, so link_migration_crates() cannot read the package's dependency graph: ",
            "Cargo.toml",
            "run `cargo fetch` if a package is missing",
            "name each crate that holds migrations with `use my_migrations as _;`",
        ] {
            assert!(message.contains(part), "{message}");
        }
        assert!(!message.contains('\n'), "{message}");

        let err = run_cargo(&dir.path().join("no-cargo-here").into_os_string(), &args).unwrap_err();
        assert!(matches!(err, Error::CargoNotRun { .. }), "{err}");
        assert!(
            err.to_string().contains("run the build through cargo"),
            "{err}"
        );
    }
}
