//! The house stands: the library's modules only ever look down.
//!
//! Reads every file under `src/`, finds each path into the crate
//! (`use crate::x…` and `crate::x::…` written inline), and fails when a
//! module reaches one that ARCHITECTURE.md puts at or above its own layer.
//! Only the code that ships is read: a file's `#[cfg(test)]` module (always
//! at its end in this crate) and the test-only files are skipped, since a
//! test may well drive several stages together.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may use the ones before it in this
/// list, never its own successors. The ground comes first, in the order
/// its parts may use each other; then the stages in pipeline order; then
/// `check`, the driver that runs them all.
const LAYERS: &[&str] = &[
    "error", "base", "model", "config", // the ground
    "collect", "fetch", "memento", "compare", "schedule", "store", "report", // stages
    "check",  // the driver
    "fleet",  // the driver over many machines: workers and the shared queue
];

/// Files that only tests compile.
const TEST_ONLY: &[&str] = &["contract_tests.rs", "store/testing.rs"];

/// Inside `collect`, the format readers stay independent of each other:
/// what two of them share lives in a module of its own.
const COLLECT_READERS_THAT_MUST_NOT_USE_HTML: &[&str] = &["text", "markdown"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The shipped part of a file: everything before its test module, with
/// line comments dropped (a doc comment may name a later stage).
fn shipped_code(text: &str) -> String {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..end]
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top-level modules a piece of code names: `crate::x`, and
/// each `x` inside a grouped `use crate::{x, y::z}`.
fn modules_used(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        // `citeguard::crate::` never occurs; `$crate::` (macros) is skipped.
        if code[..at].ends_with('$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = ident(item.trim());
                if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                    used.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                used.insert(name);
            }
        }
    }
    used
}

/// A file's top-level module: `src/store/index.rs` → `store`.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap();
    let first = first.as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

fn library_files() -> Vec<(PathBuf, String)> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&root).unwrap().to_path_buf();
            let shown = relative.to_string_lossy().replace('\\', "/");
            let binary = shown == "main.rs" || shown.starts_with("cli/");
            let skip = binary || shown == "lib.rs" || TEST_ONLY.contains(&shown.as_str());
            (!skip).then(|| {
                let text = std::fs::read_to_string(&path).unwrap();
                (relative, shipped_code(&text))
            })
        })
        .collect()
}

#[test]
fn every_library_module_has_a_place_in_the_layers() {
    for (relative, _) in library_files() {
        let module = module_of(&relative);
        assert!(
            layer(&module).is_some(),
            "src/{}: module `{module}` is not in the layer list of tests/it/architecture.rs \
             (and ARCHITECTURE.md): give it a place",
            relative.display()
        );
    }
}

#[test]
fn a_module_only_uses_the_layers_below_it() {
    let mut wrong = Vec::new();
    for (relative, code) in library_files() {
        let module = module_of(&relative);
        let Some(own) = layer(&module) else { continue };
        for used in modules_used(&code) {
            if used == module {
                continue;
            }
            match layer(&used) {
                Some(l) if l < own => {}
                Some(_) => wrong.push(format!(
                    "src/{} ({module}) uses `{used}`, which is not below it",
                    relative.display()
                )),
                None => {} // `crate::Result` and other re-exports at the root.
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run upward:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_plain_text_and_markdown_readers_do_not_use_the_html_reader() {
    for reader in COLLECT_READERS_THAT_MUST_NOT_USE_HTML {
        let path = src().join("collect").join(format!("{reader}.rs"));
        let code = shipped_code(&std::fs::read_to_string(&path).unwrap());
        for bad in ["super::html", "collect::html"] {
            assert!(
                !code.contains(bad),
                "src/collect/{reader}.rs uses the HTML reader ({bad}); share through a module of its own"
            );
        }
    }
}

#[test]
fn the_commands_do_not_use_each_other() {
    let cli = src().join("cli");
    let commands = ["check", "collect", "store"];
    for command in commands {
        let code =
            shipped_code(&std::fs::read_to_string(cli.join(format!("{command}.rs"))).unwrap());
        for other in commands.iter().filter(|o| **o != command) {
            assert!(
                !code.contains(&format!("super::{other}::"))
                    && !code.contains(&format!("cli::{other}::")),
                "src/cli/{command}.rs uses cli/{other}.rs: share through the library or cli/mod.rs"
            );
        }
    }
}

#[test]
fn the_reader_of_imports_sees_grouped_and_inline_paths() {
    let code = "use crate::{error::Error, model::{Kind, Verdict}};\nfn f() { crate::fetch::x(); }\n// crate::store is only named here\n";
    let used = modules_used(&shipped_code(code));
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["error", "fetch", "model"]
    );
}
