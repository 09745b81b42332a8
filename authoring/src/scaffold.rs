//! `crucible new`: a working project from a template, with the contract's
//! WIT beside it. The templates live in `authoring/templates/LANG/KIND/` and
//! travel inside the binary.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::project::Language;
use crucible_registry::PackageName;
use crucible_runtime::PluginKind;

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static CONTRACT: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../wit/crucible-plugin@0.1.0");

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{0} already exists and is not empty: choose another --path")]
    NotEmpty(PathBuf),
    #[error("{0} is a file, not a directory: choose another --path")]
    NotADirectory(PathBuf),
    #[error("there is no {language} {kind} template")]
    NoTemplate {
        language: Language,
        kind: PluginKind,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes a new project for `name` into `dir` and returns the files it
/// wrote, relative to `dir`.
pub fn scaffold(
    kind: PluginKind,
    language: Language,
    name: &PackageName,
    dir: &Path,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    if dir.exists() && !dir.is_dir() {
        return Err(ScaffoldError::NotADirectory(dir.to_owned()));
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ScaffoldError::NotEmpty(dir.to_owned()));
    }
    let root = format!("{}/{kind}", language.key());
    let template = TEMPLATES
        .get_dir(&root)
        .ok_or(ScaffoldError::NoTemplate { language, kind })?;
    let project = name.name();
    let substitutions = [
        ("{{name}}", name.as_str().to_owned()),
        ("{{project}}", project.to_owned()),
        ("{{crate}}", project.replace('-', "_")),
    ];
    let mut written = Vec::new();
    for file in files(template) {
        let relative = file
            .path()
            .strip_prefix(&root)
            .unwrap_or(file.path())
            .to_owned();
        let mut text = String::from_utf8_lossy(file.contents()).into_owned();
        for (placeholder, value) in &substitutions {
            text = text.replace(placeholder, value);
        }
        write(dir, &relative, text.as_bytes())?;
        written.push(relative);
    }
    for file in CONTRACT.files() {
        let relative = Path::new("wit").join(file.path());
        write(dir, &relative, file.contents())?;
        written.push(relative);
    }
    written.sort();
    Ok(written)
}

/// Every file under a template directory, at any depth.
fn files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut all: Vec<_> = dir.files().collect();
    for sub in dir.dirs() {
        all.extend(files(sub));
    }
    all
}

fn write(dir: &Path, relative: &Path, bytes: &[u8]) -> Result<(), ScaffoldError> {
    let path = dir.join(relative);
    let wrap = |source| ScaffoldError::Write {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(wrap)?;
    }
    std::fs::write(&path, bytes).map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANGUAGES: [Language; 3] = [Language::Rust, Language::Python, Language::JavaScript];
    const KINDS: [PluginKind; 2] = [PluginKind::Scenario, PluginKind::Classifier];

    #[test]
    fn every_template_fills_every_placeholder_and_carries_the_contract() {
        let name: PackageName = "acme/audit-cleanup".parse().expect("a package name");
        for language in LANGUAGES {
            for kind in KINDS {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let written = scaffold(kind, language, &name, dir.path())
                    .unwrap_or_else(|e| panic!("{language} {kind}: {e}"));
                assert!(
                    written.contains(&PathBuf::from("wit/worlds.wit")),
                    "{written:?}"
                );
                assert!(written.contains(&PathBuf::from("README.md")), "{written:?}");
                for file in &written {
                    let text = std::fs::read_to_string(dir.path().join(file)).expect("text");
                    assert!(
                        !text.contains("{{"),
                        "{language} {kind}: {} keeps a placeholder",
                        file.display()
                    );
                }
                let project = super::super::project::Project::open(dir.path())
                    .unwrap_or_else(|e| panic!("{language} {kind}: {e}"));
                assert_eq!(project.language, language);
                assert_eq!(project.package, "audit-cleanup");
            }
        }
    }

    #[test]
    fn an_existing_project_is_never_overwritten() {
        let name: PackageName = "acme/x".parse().expect("a package name");
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("keep.txt"), "mine").expect("write");
        let err = scaffold(PluginKind::Scenario, Language::Rust, &name, dir.path())
            .expect_err("not empty");
        assert!(matches!(err, ScaffoldError::NotEmpty(_)));
        let file = dir.path().join("keep.txt");
        let err = scaffold(PluginKind::Scenario, Language::Rust, &name, &file).expect_err("a file");
        assert!(matches!(err, ScaffoldError::NotADirectory(_)));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("keep.txt")).expect("kept"),
            "mine"
        );
    }
}
