//! `link_migration_crates()`: the crates of the package's dependency graph that hold
//! migrations, and the `use that_crate as _;` lines that link them.
//!
//! Two commands, both offline and with the lock file as it is:
//!
//! - `cargo metadata --no-deps` for the package's own manifest: its dependencies as
//!   written (renames, optional ones) and its features, and the workspace root;
//! - `cargo tree -e normal --target $TARGET` with the features this build enables: the
//!   resolved graph of normal dependencies for the target being built, as this build
//!   resolves it. Unlike `cargo metadata` with dependencies, it needs only the packages
//!   of that target to be downloaded, which the build has already done.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::json::{self, Json};
use crate::{Error, Result};

use super::RUNTIME_PACKAGES;

/// A dependency of the package as its manifest writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ManifestDependency {
    /// The package's name.
    pub(crate) package: String,
    /// `name = { package = "..." }`: the name the crate is known by in the code.
    pub(crate) rename: Option<String>,
}

/// What the build script needs from the package's manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// The package's name.
    pub(crate) name: String,
    /// Its version.
    pub(crate) version: String,
    /// The package's normal dependencies (not dev, not build).
    pub(crate) dependencies: Vec<ManifestDependency>,
    /// Every feature the package declares, with the implicit features of optional
    /// dependencies.
    pub(crate) features: BTreeSet<String>,
    /// The workspace root, where `Cargo.lock` is.
    pub(crate) workspace_root: PathBuf,
}

/// Reads the package whose manifest is `manifest_path` out of `cargo metadata --no-deps`
/// output.
pub(crate) fn parse_manifest(json: &str, manifest_path: &Path, command: &str) -> Result<Manifest> {
    let bad = |detail: String| Error::CargoOutput {
        command: command.to_owned(),
        detail,
    };
    let metadata: Json = json::parse(json).map_err(|e| bad(format!("not JSON: {e}")))?;
    let packages = metadata
        .get("packages")
        .as_array()
        .ok_or_else(|| bad("no `packages` list".to_owned()))?;
    let wanted = canonical(manifest_path);
    let package = packages
        .iter()
        .find(|p| {
            p.get("manifest_path")
                .as_str()
                .map(|m| canonical(Path::new(m)))
                == Some(wanted.clone())
        })
        .ok_or_else(|| {
            bad(format!(
                "no package with the manifest {}",
                manifest_path.display()
            ))
        })?;
    let text = |value: &Json| value.as_str().map(str::to_owned);
    let name =
        text(package.get("name")).ok_or_else(|| bad("a package without a name".to_owned()))?;
    let mut dependencies = Vec::new();
    let mut features: BTreeSet<String> = package
        .get("features")
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default();
    let mut explicit_dep_features = BTreeSet::new();
    for values in package
        .get("features")
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        for value in values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
        {
            if let Some(dep) = value.strip_prefix("dep:") {
                explicit_dep_features.insert(dep.to_owned());
            }
        }
    }
    for dependency in package.get("dependencies").as_array().into_iter().flatten() {
        if !dependency.get("kind").is_null() {
            continue; // "dev" or "build"
        }
        let Some(package) = text(dependency.get("name")) else {
            continue;
        };
        let rename = text(dependency.get("rename"));
        if dependency.get("optional").as_bool() == Some(true) {
            // An optional dependency never named as `dep:x` is a feature of its own.
            let key = rename.clone().unwrap_or_else(|| package.clone());
            if !explicit_dep_features.contains(&key) {
                features.insert(key);
            }
        }
        dependencies.push(ManifestDependency { package, rename });
    }
    let workspace_root = text(metadata.get("workspace_root"))
        .map(PathBuf::from)
        .ok_or_else(|| bad("no `workspace_root`".to_owned()))?;
    let version = text(package.get("version")).unwrap_or_default();
    Ok(Manifest {
        name,
        version,
        dependencies,
        features,
        workspace_root,
    })
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// The features of `manifest` that this build enables: Cargo sets
/// `CARGO_FEATURE_<NAME>` (upper case, `-` as `_`) for each.
pub(crate) fn enabled_features(manifest: &Manifest, is_set: impl Fn(&str) -> bool) -> Vec<String> {
    manifest
        .features
        .iter()
        .filter(|f| {
            is_set(&format!(
                "CARGO_FEATURE_{}",
                f.to_uppercase().replace('-', "_")
            ))
        })
        .cloned()
        .collect()
}

/// A package in the `cargo tree` output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Node {
    /// `name vX.Y.Z (source)`, as `{p}` prints it: the package's identity.
    id: String,
    /// The package's name.
    name: String,
    /// Its library's crate name (`{lib}`).
    lib: String,
    proc_macro: bool,
    /// The packages it depends on (normal dependencies), by id.
    dependencies: BTreeSet<String>,
    /// The shortest chain of package names from the root to it (root first).
    chain: Vec<String>,
    /// The folder of a path dependency, from the source in `{p}`.
    path: Option<PathBuf>,
}

/// The `--format` given to `cargo tree`: the library name, then the package.
pub(crate) const TREE_FORMAT: &str = "{lib}|{p}";

/// The graph in `cargo tree --prefix depth --format "{lib}|{p}"` output, by package id,
/// and the root's id.
fn parse_tree(text: &str, command: &str) -> Result<(String, BTreeMap<String, Node>)> {
    let bad = |detail: String| Error::CargoOutput {
        command: command.to_owned(),
        detail,
    };
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let mut stack: Vec<String> = Vec::new();
    let mut root = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let digits = line.chars().take_while(char::is_ascii_digit).count();
        let depth: usize = line[..digits]
            .parse()
            .map_err(|_| bad(format!("a line without its depth: {line:?}")))?;
        let (lib, package) = line[digits..]
            .split_once('|')
            .ok_or_else(|| bad(format!("a line without `|`: {line:?}")))?;
        let id = package.strip_suffix(" (*)").unwrap_or(package).to_owned();
        let name = id.split(' ').next().unwrap_or_default().to_owned();
        if depth > stack.len() {
            return Err(bad(format!("a line deeper than the one before: {line:?}")));
        }
        stack.truncate(depth);
        if let Some(parent) = stack.last() {
            if let Some(parent) = nodes.get_mut(parent) {
                parent.dependencies.insert(id.clone());
            }
        } else if root.is_none() {
            root = Some(id.clone());
        }
        if !nodes.contains_key(&id) {
            let mut chain: Vec<String> = stack
                .last()
                .and_then(|p| nodes.get(p))
                .map(|p| p.chain.clone())
                .unwrap_or_default();
            chain.push(name.clone());
            nodes.insert(
                id.clone(),
                Node {
                    proc_macro: id.contains(" (proc-macro)"),
                    path: source_path(&id),
                    id: id.clone(),
                    name,
                    lib: lib.to_owned(),
                    dependencies: BTreeSet::new(),
                    chain,
                },
            );
        }
        stack.push(id);
    }
    let root = root.ok_or_else(|| bad("no package at all".to_owned()))?;
    Ok((root, nodes))
}

/// The folder in the last `(...)` of `{p}`, when it is one (a path dependency).
fn source_path(id: &str) -> Option<PathBuf> {
    let inner = id.strip_suffix(')')?;
    let start = inner.rfind(" (")?;
    let path = PathBuf::from(&inner[start + 2..]);
    path.is_absolute().then_some(path)
}

/// What the build found: the lines to write, and the manifests to watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// The crate names to link, as the package's code names them.
    pub(crate) crates: Vec<String>,
    /// The manifests of the path packages in the graph.
    pub(crate) manifests: Vec<PathBuf>,
}

/// The crates of the tree that hold migrations, checked against the manifest: each must
/// be a direct dependency, which the generated lines then name.
pub(crate) fn find(manifest: &Manifest, tree: &str, command: &str) -> Result<Found> {
    let (root, nodes) = parse_tree(tree, command)?;
    let is_runtime = |id: &String| {
        nodes
            .get(id)
            .is_some_and(|n| RUNTIME_PACKAGES.contains(&n.name.as_str()))
    };
    // What is linked into the program: the root and what it reaches through crates
    // that are not proc macros (a proc macro's dependencies run in the compiler).
    let mut linked = BTreeSet::new();
    let mut todo = vec![root.clone()];
    while let Some(id) = todo.pop() {
        if !linked.insert(id.clone()) {
            continue;
        }
        if let Some(node) = nodes.get(&id).filter(|n| !n.proc_macro || id == root) {
            todo.extend(node.dependencies.iter().cloned());
        }
    }
    let holds_migrations = |node: &Node| {
        !node.proc_macro
            && !RUNTIME_PACKAGES.contains(&node.name.as_str())
            && node.dependencies.iter().any(is_runtime)
    };
    let direct = nodes
        .get(&root)
        .map(|n| n.dependencies.clone())
        .unwrap_or_default();
    let mut found = Found::default();
    let mut errors = Vec::new();
    for id in &linked {
        let Some(node) = nodes.get(id) else { continue };
        if let Some(path) = &node.path {
            found.manifests.push(path.join("Cargo.toml"));
        }
        if *id == root || !holds_migrations(node) {
            continue;
        }
        if !direct.contains(id) {
            errors.push(Error::NotADirectDependency {
                package: manifest.name.clone(),
                krate: node.name.clone(),
                version: version(id),
                chain: node.chain.join(" -> "),
            });
            continue;
        }
        let renamed: Vec<&ManifestDependency> = manifest
            .dependencies
            .iter()
            .filter(|d| d.package == node.name)
            .collect();
        let mut names: Vec<String> = renamed
            .iter()
            .map(|d| {
                d.rename
                    .as_deref()
                    .map_or_else(|| node.lib.clone(), |r| r.replace('-', "_"))
            })
            .collect();
        if names.is_empty() {
            names.push(node.lib.clone());
        }
        names.dedup();
        found.crates.extend(names);
    }
    found.crates.sort();
    found.crates.dedup();
    match Error::from_list(errors) {
        Some(error) => Err(error),
        None => Ok(found),
    }
}

/// `1.2.3` out of `name v1.2.3 (source)`.
fn version(id: &str) -> String {
    id.split(' ')
        .nth(1)
        .and_then(|v| v.strip_prefix('v'))
        .unwrap_or_default()
        .to_owned()
}

/// The generated file: one `use ::name as _;` per crate.
pub(crate) fn render(package: &str, crates: &[String]) -> String {
    let mut out = format!(
        "// @generated by migrate_build::link_migration_crates() for the package `{package}`:\n\
         // one line per crate of its dependency graph that depends on a migrate crate, so\n\
         // that the linker keeps the migrations it holds. Do not edit: it is written again\n\
         // when Cargo.toml or Cargo.lock changes.\n"
    );
    for krate in crates {
        let _ = writeln!(out, "use ::{krate} as _;");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(deps: &[(&str, Option<&str>)]) -> Manifest {
        Manifest {
            name: "app".to_owned(),
            dependencies: deps
                .iter()
                .map(|(p, r)| ManifestDependency {
                    package: (*p).to_owned(),
                    rename: r.map(str::to_owned),
                })
                .collect(),
            ..Manifest::default()
        }
    }

    /// `cargo tree --prefix depth --format "{lib}|{p}"` of a package `app`.
    const TREE: &str = "\
0app|app v0.1.0 (/w/app)
1auth_migrations|auth_migrations v0.1.0 (/w/auth)
2migrate_core|migrate-core v0.1.0
3linkme|linkme v0.3.37
4linkme_impl|linkme-impl v0.3.37 (proc-macro)
3migrate_macros|migrate-macros v0.1.0 (proc-macro)
1mid|mid v0.1.0 (/w/mid)
2billing_lib|billing v0.2.0
3migrate_sqlite|migrate-sqlite v0.1.0
4migrate_core|migrate-core v0.1.0 (*)
1helper_macros|helper-macros v0.1.0 (proc-macro)
2macro_migrations|macro-migrations v0.1.0
3migrate_core|migrate-core v0.1.0 (*)
1migrate_core|migrate-core v0.1.0 (*)
";

    #[test]
    fn finds_the_crates_that_depend_on_a_runtime_crate() {
        let tree = TREE;
        let err = find(&manifest(&[("auth_migrations", None)]), tree, "cargo tree").unwrap_err();
        // billing is reached through mid only: refused, naming the chain and the fix.
        let message = err.to_string();
        for part in [
            "`billing` 0.2.0 holds migrations",
            "app reaches it only through app -> mid -> billing",
            "add `billing = \"0.2.0\"` (or its path or git source) to [dependencies] in the \
             Cargo.toml of app",
        ] {
            assert!(message.contains(part), "{message}");
        }
        // macro-migrations is behind a proc macro: not linked, not a problem.
        assert!(!message.contains("macro-migrations"), "{message}");

        let without_billing: String = TREE
            .lines()
            .filter(|l| {
                !["2billing", "3migrate_sqlite", "4migrate_core"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let found = find(
            &manifest(&[("auth_migrations", Some("auth"))]),
            &without_billing,
            "cargo tree",
        )
        .unwrap();
        assert_eq!(found.crates, ["auth"]);
        assert!(
            found
                .manifests
                .contains(&PathBuf::from("/w/mid/Cargo.toml"))
        );
    }

    #[test]
    fn renders_one_line_per_crate() {
        let code = render("app", &["auth".to_owned(), "billing_lib".to_owned()]);
        assert!(
            code.contains("\nuse ::auth as _;\nuse ::billing_lib as _;\n"),
            "{code}"
        );
    }

    #[test]
    fn reads_the_manifest_out_of_cargo_metadata() {
        let json = r#"{"packages": [{"name": "app", "version": "0.3.0", "manifest_path": "/nowhere/app/Cargo.toml",
            "features": {"default": ["auth-feature"], "auth-feature": ["dep:auth"]},
            "dependencies": [
                {"name": "auth_migrations", "rename": "auth", "kind": null, "optional": true},
                {"name": "plain-dep", "rename": null, "kind": null, "optional": true},
                {"name": "tempfile", "rename": null, "kind": "dev", "optional": false}
            ]}], "workspace_root": "/nowhere"}"#;
        let manifest =
            parse_manifest(json, Path::new("/nowhere/app/Cargo.toml"), "cargo metadata").unwrap();
        assert_eq!(manifest.name, "app");
        assert_eq!(manifest.version, "0.3.0");
        assert_eq!(manifest.dependencies.len(), 2);
        assert_eq!(manifest.dependencies[0].rename.as_deref(), Some("auth"));
        let features: Vec<&str> = manifest.features.iter().map(String::as_str).collect();
        assert_eq!(features, ["auth-feature", "default", "plain-dep"]);
        let enabled = enabled_features(&manifest, |var| {
            matches!(
                var,
                "CARGO_FEATURE_AUTH_FEATURE" | "CARGO_FEATURE_PLAIN_DEP"
            )
        });
        assert_eq!(enabled, ["auth-feature", "plain-dep"]);
        let err =
            parse_manifest(json, Path::new("/elsewhere/Cargo.toml"), "cargo metadata").unwrap_err();
        assert!(
            err.to_string().contains("no package with the manifest"),
            "{err}"
        );
    }
}
