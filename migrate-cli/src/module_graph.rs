//! A guard on the crate's shape: no module depends, through its `crate::`, `super::`
//! and child-module paths, on a module that depends on it. Test code is left out (a
//! test may use what it tests from anywhere).
//!
//! `cargo test -p migrate-cli module_graph -- --nocapture` prints each module's
//! imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module of `src` (`""` the crate's root, `open::sqlite` ...), with its code up to
/// its tests.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read src") {
            let path = entry.expect("read src").path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            // This file is test code, and names `crate::` in its strings.
            if path.extension().is_none_or(|ext| ext != "rs") || path.ends_with("module_graph.rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src");
            let mut parts: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts
                .last()
                .is_some_and(|last| last == "mod" || last == "lib")
            {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("read a module");
            let code = text
                .lines()
                .take_while(|line| {
                    !line.starts_with("#[cfg(test)]") && !line.starts_with("#[cfg(all(test")
                })
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            found.insert(parts.join("::"), code);
        }
    }
    found
}

/// The paths `code` names after `prefix` (`crate::`), `use` groups expanded:
/// `use crate::{a, b::{c, d}}` names `a`, `b::c` and `b::d`.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        expand("", rest, &mut paths);
    }
    paths
}

/// Expands the path (or `{..}` group) at the start of `text` after `base`.
fn expand(base: &str, text: &str, paths: &mut Vec<String>) {
    let text = text.trim_start();
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(base, &group[start..i], paths);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(base, &group[start..i], paths);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let mut path = base.to_owned();
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        if !path.is_empty() {
            path.push_str("::");
        }
        path.push_str(&rest[..end]);
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(next) if next.trim_start().starts_with('{') => {
                expand(&path, next, paths);
                return;
            }
            Some(next) => rest = next,
            None => break,
        }
    }
    if !path.is_empty() {
        paths.push(path);
    }
}

/// The module a path names: its longest prefix that is a module.
fn resolve(path: &str, modules: &BTreeMap<String, String>) -> String {
    let parts: Vec<&str> = path.split("::").collect();
    (0..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| modules.contains_key(candidate))
        .unwrap_or_default()
}

/// Each module's dependencies on the others.
fn graph(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (name, code) in modules {
        let mut named: Vec<String> = paths_after(code, "crate::");
        let parent = name.rsplit_once("::").map_or("", |(parent, _)| parent);
        for path in paths_after(code, "super::") {
            named.push(if parent.is_empty() {
                path
            } else {
                format!("{parent}::{path}")
            });
        }
        // Its own child modules, named without `crate::`.
        for line in code.lines() {
            let line = line.trim_start();
            // `mod x;`, `pub mod x;`, `pub(crate) mod x;` ...
            let line = match line.strip_prefix("pub") {
                Some(rest) if rest.starts_with('(') => rest.split_once(") ").map_or("", |(_, l)| l),
                Some(rest) => rest.trim_start(),
                None => line,
            };
            if let Some(child) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                let child = if name.is_empty() {
                    child.to_owned()
                } else {
                    format!("{name}::{child}")
                };
                let short = child.rsplit("::").next().unwrap_or_default().to_owned();
                for path in paths_after(code, &format!("{short}::")) {
                    named.push(format!("{child}::{path}"));
                }
            }
        }
        let depends: BTreeSet<String> = named
            .iter()
            .map(|path| resolve(path, modules))
            .filter(|target| target != name)
            .collect();
        edges.insert(name.clone(), depends);
    }
    edges
}

/// A cycle through `start`, if there is one.
fn cycle_through(start: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in edges.get(&at).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_module_depends_on_one_that_depends_on_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    assert!(modules.contains_key("open::sqlite"), "{:?}", modules.keys());
    let edges = graph(&modules);
    for (name, depends) in &edges {
        let shown = if name.is_empty() { "(root)" } else { name };
        let list: Vec<&str> = depends
            .iter()
            .map(|d| if d.is_empty() { "(root)" } else { d.as_str() })
            .collect();
        println!("{shown} -> {}", list.join(", "));
    }
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|name| cycle_through(name, &edges))
        .map(|cycle| cycle.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_guard_sees_a_cycle() {
    let mut modules = BTreeMap::new();
    modules.insert(String::new(), "mod a;\nmod b;".to_owned());
    modules.insert("a".to_owned(), "use crate::{b::{self, X}, c};".to_owned());
    modules.insert("b".to_owned(), "fn f() { crate::a::g() }".to_owned());
    let edges = graph(&modules);
    assert_eq!(
        cycle_through("a", &edges),
        Some(vec!["a".to_owned(), "b".to_owned(), "a".to_owned()])
    );
    // A parent that calls its child by its short name, and the child that uses its parent.
    let mut modules = BTreeMap::new();
    modules.insert(String::new(), "mod p;".to_owned());
    modules.insert(
        "p".to_owned(),
        "pub(crate) mod c;\nfn f() { c::g() }".to_owned(),
    );
    modules.insert("p::c".to_owned(), "use super::Item;".to_owned());
    let edges = graph(&modules);
    assert_eq!(
        cycle_through("p", &edges),
        Some(vec!["p".to_owned(), "p::c".to_owned(), "p".to_owned()])
    );
}
