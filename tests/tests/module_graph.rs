//! No module cycles in the workspace's crates (issue 19, §2): for every crate
//! `migrate-*/src`, each module's `crate::` references give the edges of its module graph,
//! and every strongly connected component of more than one module is a cycle.
//!
//! - A module is a file: `src/a.rs` or `src/a/mod.rs` is `a`, `src/a/b.rs` is `a::b`.
//!   The crate root (`lib.rs`) is not a node: it declares the modules and re-exports them.
//!   `src/bin/` and `src/main.rs` are crates of their own and are left out.
//! - A reference is a path `crate::a::b::..` in code, alone or in a `use crate::{a, b::c}`
//!   group, and names the longest module its segments spell (`crate::a::b::Item` is `a::b`
//!   when `a/b.rs` exists, else `a`);
//!   comments (doc comments included, so intra-doc links) and string literals are
//!   skipped, and so are `$crate::` (a macro's path) and names that are not modules
//!   (`crate::PENDING`, an item of the root). `super::` and `self::` are not followed,
//!   and a file's unit tests (`#[cfg(test)] mod tests` at its end) are left out.
//!
//! - Cycles are looked for twice: between files, and between rooms (a top-level module with
//!   every file under it), so `a::x -> b` with `b -> a::y` is a cycle too.
//!
//! The test also finds the cycles of a made-up graph, so an empty result means none.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A crate's module graph: each module and the modules it references.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_crate_has_a_module_cycle() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = BTreeSet::new();
    let mut crates = 0;
    for source in crate_sources(&workspace) {
        crates += 1;
        let name = source
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // Per file, and per room: a top-level module with everything under it, so that
        // `a::x -> b` and `b -> a::y` is a cycle too.
        let files = graph(&source);
        for cycle in cycles(&files).into_iter().chain(cycles(&rooms(&files))) {
            found.insert((name.clone(), cycle));
        }
    }
    assert!(
        crates >= 6,
        "found only {crates} crates under {}",
        workspace.display()
    );

    let show: String = found
        .iter()
        .map(|(krate, modules)| format!("\n  {krate}: {{{}}}", modules.join(", ")))
        .collect();
    assert!(
        found.is_empty(),
        "module cycles (strongly connected components of more than one module); cut \
         them, a module cycle is a defect:{show}"
    );
}

/// The test's own reading of `crate::` references, on made-up sources.
#[test]
fn references_are_read_from_code_only() {
    let modules: BTreeSet<String> = ["a", "b", "c", "c::inner", "d", "e", "f", "f::g"]
        .iter()
        .map(|m| m.to_string())
        .collect();
    let source = r##"
        //! Links to [`crate::e`] do not count.
        use crate::{a, b::{X, Y}, PENDING};
        use crate::c::Z as _;
        /* crate::e in a block comment /* nested crate::e */ */
        fn f<'l>(x: &'l str) -> char {
            let _ = "crate::e in a string";
            let _ = r#"crate::e in a raw string"#;
            let _ = '"';
            macro_rules! m { () => { $crate::e::f() } }
            crate::d::g(x);
            'x'
        }
        pub(crate) fn h() {}
        use crate::c::inner::{W, V as _};
        use crate::{f::{g::Q, R}};
    "##;
    let expected: BTreeSet<String> = ["a", "b", "c", "c::inner", "d", "f", "f::g"]
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(references(source, &modules), expected);
}

#[test]
fn a_cycle_is_a_component_of_more_than_one_module() {
    let edges = |list: &[(&str, &[&str])]| -> Graph {
        list.iter()
            .map(|(from, to)| (from.to_string(), to.iter().map(|t| t.to_string()).collect()))
            .collect()
    };
    let graph = edges(&[
        ("a", &["b"]),
        ("b", &["c", "d"]),
        ("c", &["a"]),
        ("d", &["d", "e"]),
        ("e", &[]),
    ]);
    assert_eq!(
        cycles(&graph),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
    assert!(cycles(&edges(&[("a", &["b"]), ("b", &[])])).is_empty());
}

/// The `src` folders of the workspace's crates (`migrate-*`), sorted.
fn crate_sources(workspace: &Path) -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = fs::read_dir(workspace)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("migrate-")
                && path.join("Cargo.toml").is_file()
                && path.join("src").is_dir()
        })
        .map(|path| path.join("src"))
        .collect();
    sources.sort();
    sources
}

/// The module graph of the crate whose sources are in `src`.
fn graph(src: &Path) -> Graph {
    // Each module (a file) by its path, `a` or `a::b`.
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in rust_files(src) {
        let relative = path.strip_prefix(src).unwrap();
        let mut segments: Vec<String> = relative
            .iter()
            .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        if segments.first().is_some_and(|s| s == "bin") {
            continue;
        }
        if segments.last().is_some_and(|s| s == "mod") {
            segments.pop();
        }
        if segments.len() == 1 && (segments[0] == "lib" || segments[0] == "main") {
            continue;
        }
        files.insert(segments.join("::"), path);
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, path)| {
            let text = fs::read_to_string(path).unwrap();
            // A file's unit tests (`#[cfg(test)] mod tests`, last in the file) are not part
            // of the crate's structure.
            let code = text
                .find("#[cfg(test)]\nmod tests")
                .map_or(&text[..], |at| &text[..at]);
            let mut to = references(code, &modules);
            to.remove(module);
            (module.clone(), to)
        })
        .collect()
}

/// `graph` with every module folded into its top-level module.
fn rooms(graph: &Graph) -> Graph {
    let room = |module: &str| module.split("::").next().unwrap().to_owned();
    let mut rooms = Graph::new();
    for (from, to) in graph {
        let entry = rooms.entry(room(from)).or_default();
        entry.extend(to.iter().map(|m| room(m)));
    }
    for (from, to) in &mut rooms {
        to.remove(from);
    }
    rooms
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The modules of `modules` that `source` names with a `crate::` path, in code.
fn references(source: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = code_only(source);
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::") {
        let start = at + i;
        at = start + "crate::".len();
        let before = start.checked_sub(1).map(|b| bytes[b]);
        if before.is_some_and(|b| b == b'$' || b == b'_' || b.is_ascii_alphanumeric()) {
            continue;
        }
        for path in paths(&code[at..]) {
            // The longest prefix of the path that is a module of the crate.
            let mut module = None;
            for n in 1..=path.len() {
                let prefix = path[..n].join("::");
                if modules.contains(&prefix) {
                    module = Some(prefix);
                }
            }
            found.extend(module);
        }
    }
    found
}

/// The paths that `text` (what follows a `crate::`) spells, each as its segments: one
/// path, or one per leaf of a `{..}` group, nested groups included.
fn paths(text: &str) -> Vec<Vec<String>> {
    fn walk(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        // Reads one path (or group) at the start of `text`; returns the bytes read.
        let mut segments = prefix.to_vec();
        let mut i = 0;
        loop {
            i += text[i..].len() - text[i..].trim_start().len();
            let rest = &text[i..];
            if let Some(group) = rest.strip_prefix('{') {
                i += 1;
                let mut j = 0;
                loop {
                    j += group[j..].len() - group[j..].trim_start().len();
                    if group[j..].starts_with('}') || j >= group.len() {
                        j += 1;
                        break;
                    }
                    j += walk(&group[j..], &segments, out);
                    j += group[j..].len() - group[j..].trim_start().len();
                    if group[j..].starts_with(',') {
                        j += 1;
                    }
                }
                return i + j;
            }
            let name = ident(rest);
            if name.is_empty() {
                break;
            }
            segments.push(name.to_owned());
            i += name.len();
            if text[i..].starts_with("::") {
                i += 2;
            } else {
                break;
            }
        }
        // `a as b` and the like end the path; the caller skips to the next `,` or `}`.
        let tail = &text[i..];
        let end = tail
            .find([',', '}', ';', '(', ')', '<', '>', ' ', '\n'])
            .unwrap_or(tail.len());
        if segments.len() > prefix.len() {
            out.push(segments);
        }
        i + if tail.starts_with(' ') {
            tail.find([',', '}', ';']).unwrap_or(tail.len())
        } else {
            end
        }
    }
    let mut out = Vec::new();
    walk(text, &[], &mut out);
    out
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// `source` with its comments and the contents of its string and character literals
/// replaced by spaces (lifetimes kept).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, from: &[char]| {
        out.extend(from.iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            blank(&mut out, &chars[i..end]);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &chars[i..j]);
            i = j;
        } else if let Some(end) = raw_string_end(&chars, i) {
            blank(&mut out, &chars[i..end]);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(chars.len());
            blank(&mut out, &chars[i..end]);
            i = end;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\''), or a lifetime ('a), which stays.
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| i + 3 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    blank(&mut out, &chars[i..end]);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where the raw string (`r"..."`, `r#"..."#`, `br#"..."#`) starting at `i` ends, if one
/// starts there.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let previous = i.checked_sub(1).map(|p| chars[p]);
    if previous.is_some_and(|p| p.is_alphanumeric() || p == '_') {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"'
            && chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// The strongly connected components of more than one module (Tarjan's algorithm), each
/// sorted, in order.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<String>>,
    }

    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                loop {
                    let top = self.stack.pop().unwrap();
                    self.on_stack.remove(top);
                    component.push(top.to_string());
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.components.push(component);
                }
            }
        }
    }

    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.components.sort();
    walk.components
}
