//! Files as the user knows them: relative to their crate.

use std::path::Path;

/// A migration's file as the user knows it: relative to its crate (the nearest folder
/// with a `Cargo.toml`, on the machine that built it), else from its `src` folder on,
/// else as compiled. `file!()` of a file the migrations folder compiles is absolute.
pub(crate) fn relative(file: &str) -> String {
    let path = Path::new(file);
    if !path.is_absolute() {
        return file.to_owned();
    }
    if let Some(root) = path
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file())
        && let Ok(inside) = path.strip_prefix(root)
    {
        return inside.display().to_string();
    }
    let components: Vec<_> = path.components().collect();
    if let Some(src) = components.iter().rposition(|c| c.as_os_str() == "src") {
        return components[src..]
            .iter()
            .collect::<std::path::PathBuf>()
            .display()
            .to_string();
    }
    file.to_owned()
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn files_relative_to_their_crate() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        let file = dir.path().join("src/migrations/m0001_a.rs");
        assert_eq!(
            relative(file.to_str().unwrap()),
            "src/migrations/m0001_a.rs"
        );
        // Built on another machine: from `src` on.
        assert_eq!(
            relative("/nonexistent/home/ci/src/app/src/migrations/m0001_a.rs"),
            "src/migrations/m0001_a.rs"
        );
        assert_eq!(relative("src/m0001_a.rs"), "src/m0001_a.rs");
        assert_eq!(
            relative("/nonexistent/m0001_a.rs"),
            "/nonexistent/m0001_a.rs"
        );
    }
}
