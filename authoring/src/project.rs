//! A plugin project on disk: the language that builds it, the world it
//! targets and where its component comes out. The project's own manifest
//! says so: `Cargo.toml`, `pyproject.toml` (`[tool.crucible]`) or
//! `package.json` (`"crucible"`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crucible_runtime::PluginKind;

/// The languages `crucible new` and `crucible build` know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Rust,
    Python,
    JavaScript,
}

impl Language {
    /// The name `--lang` takes and the template folder is called.
    pub fn key(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "js",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
        })
    }
}

/// The WIT world of a plugin kind, as the componentizers name it.
pub fn world_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Scenario => "scenario-plugin",
        PluginKind::Classifier => "classifier-plugin",
    }
}

/// The kind a manifest's `world` names.
fn kind_of_world(manifest: &Path, world: &str) -> Result<PluginKind, ProjectError> {
    match world {
        "scenario-plugin" => Ok(PluginKind::Scenario),
        "classifier-plugin" => Ok(PluginKind::Classifier),
        _ => Err(ProjectError::UnknownWorld {
            path: manifest.to_owned(),
            world: world.to_owned(),
        }),
    }
}

/// How the project's language builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipe {
    /// `cargo build --release --target wasm32-wasip2`; the artifact is
    /// whatever cdylib cargo reports for this package.
    Cargo,
    /// `componentize-py` of `module` against `world`.
    ComponentizePy { world: PluginKind, module: String },
    /// `componentize-js` of `main` against `world`.
    ComponentizeJs { world: PluginKind, main: PathBuf },
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub language: Language,
    /// The package name in the project's manifest (not the plugin's
    /// `namespace/name`, which the component itself describes).
    pub package: String,
    pub recipe: Recipe,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "{0} is not a plugin project: it has no Cargo.toml, pyproject.toml or package.json (give the project's directory, or a .wasm file)"
    )]
    NotAProject(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid {format}: {message}")]
    Parse {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("{path} does not say {what}: add {hint}")]
    Missing {
        path: PathBuf,
        what: &'static str,
        hint: &'static str,
    },
    #[error(
        "{path} names the world `{world}`, which the contract does not have (scenario-plugin or classifier-plugin)"
    )]
    UnknownWorld { path: PathBuf, world: String },
}

#[derive(Deserialize)]
struct CargoManifest {
    package: Option<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoPackage {
    name: String,
}

#[derive(Deserialize)]
struct PyProject {
    project: Option<PyProjectTable>,
    tool: Option<PyTools>,
}

#[derive(Deserialize)]
struct PyProjectTable {
    name: String,
}

#[derive(Deserialize)]
struct PyTools {
    crucible: Option<PyCrucible>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PyCrucible {
    world: String,
    module: Option<String>,
}

#[derive(Deserialize)]
struct PackageJson {
    name: Option<String>,
    crucible: Option<JsCrucible>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsCrucible {
    world: String,
    main: String,
}

impl Project {
    /// Finds the project in `root` from its manifest.
    pub fn open(root: &Path) -> Result<Self, ProjectError> {
        // The tools run inside the project: every path handed to them, or
        // read back from them, is absolute.
        let root = &std::path::absolute(root).unwrap_or_else(|_| root.to_owned());
        let cargo = root.join("Cargo.toml");
        let pyproject = root.join("pyproject.toml");
        let package_json = root.join("package.json");
        if cargo.is_file() {
            Self::rust(root, &cargo)
        } else if pyproject.is_file() {
            Self::python(root, &pyproject)
        } else if package_json.is_file() {
            Self::javascript(root, &package_json)
        } else {
            Err(ProjectError::NotAProject(root.to_owned()))
        }
    }

    fn rust(root: &Path, path: &Path) -> Result<Self, ProjectError> {
        let manifest: CargoManifest = parse_toml(path)?;
        let package = manifest.package.ok_or_else(|| ProjectError::Missing {
            path: path.to_owned(),
            what: "which package to build",
            hint: "a [package] table",
        })?;
        Ok(Self {
            root: root.to_owned(),
            language: Language::Rust,
            package: package.name,
            recipe: Recipe::Cargo,
        })
    }

    fn python(root: &Path, path: &Path) -> Result<Self, ProjectError> {
        let manifest: PyProject = parse_toml(path)?;
        let package = manifest
            .project
            .ok_or_else(|| ProjectError::Missing {
                path: path.to_owned(),
                what: "the project's name",
                hint: "[project] name = \"...\"",
            })?
            .name;
        let crucible =
            manifest
                .tool
                .and_then(|t| t.crucible)
                .ok_or_else(|| ProjectError::Missing {
                    path: path.to_owned(),
                    what: "which world the plugin implements",
                    hint: "[tool.crucible] world = \"scenario-plugin\" (or \"classifier-plugin\")",
                })?;
        let world = kind_of_world(path, &crucible.world)?;
        Ok(Self {
            root: root.to_owned(),
            language: Language::Python,
            package,
            recipe: Recipe::ComponentizePy {
                world,
                module: crucible.module.unwrap_or_else(|| "app".into()),
            },
        })
    }

    fn javascript(root: &Path, path: &Path) -> Result<Self, ProjectError> {
        let text = read(path)?;
        let manifest: PackageJson =
            serde_json::from_str(&text).map_err(|e| ProjectError::Parse {
                path: path.to_owned(),
                format: "JSON",
                message: e.to_string(),
            })?;
        let package = manifest.name.ok_or_else(|| ProjectError::Missing {
            path: path.to_owned(),
            what: "the package's name",
            hint: "\"name\": \"...\"",
        })?;
        let crucible = manifest.crucible.ok_or_else(|| ProjectError::Missing {
            path: path.to_owned(),
            what: "which world the plugin implements and its entry module",
            hint: "\"crucible\": {\"world\": \"classifier-plugin\", \"main\": \"src/classifier.js\"}",
        })?;
        let world = kind_of_world(path, &crucible.world)?;
        Ok(Self {
            root: root.to_owned(),
            language: Language::JavaScript,
            package,
            recipe: Recipe::ComponentizeJs {
                world,
                main: PathBuf::from(crucible.main),
            },
        })
    }

    /// Where the componentizers write the component (cargo reports its
    /// own).
    pub fn output(&self) -> PathBuf {
        self.root
            .join("build")
            .join(format!("{}.wasm", self.package))
    }

    /// The contract's WIT files, which `crucible new` put in the project.
    pub fn wit_dir(&self) -> PathBuf {
        self.root.join("wit")
    }
}

fn read(path: &Path) -> Result<String, ProjectError> {
    crucible_registry::input_file::read_to_string(path, crucible_registry::input_file::CONFIG)
        .map_err(|source| ProjectError::Read {
            path: path.to_owned(),
            source,
        })
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ProjectError> {
    toml::from_str(&read(path)?).map_err(|e| ProjectError::Parse {
        path: path.to_owned(),
        format: "TOML",
        message: e.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Project, ProjectError>) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let opened = Project::open(dir.path());
        (dir, opened)
    }

    #[test]
    fn each_manifest_names_its_language_and_recipe() {
        let (_d, rust) = project(&[("Cargo.toml", "[package]\nname = \"acme-x\"\n")]);
        let rust = rust.expect("a Rust project");
        assert_eq!(
            (rust.language, rust.package.as_str()),
            (Language::Rust, "acme-x")
        );

        let (_d, py) = project(&[(
            "pyproject.toml",
            "[project]\nname = \"x\"\n[tool.crucible]\nworld = \"scenario-plugin\"\n",
        )]);
        let py = py.expect("a Python project");
        assert_eq!(
            py.recipe,
            Recipe::ComponentizePy {
                world: PluginKind::Scenario,
                module: "app".into()
            }
        );
        assert!(py.output().ends_with("build/x.wasm"));

        let (_d, js) = project(&[(
            "package.json",
            r#"{"name": "y", "crucible": {"world": "classifier-plugin", "main": "src/c.js"}}"#,
        )]);
        let js = js.expect("a JavaScript project");
        assert_eq!(
            js.recipe,
            Recipe::ComponentizeJs {
                world: PluginKind::Classifier,
                main: "src/c.js".into()
            }
        );
    }

    #[test]
    fn a_missing_or_wrong_setting_is_named() {
        let (_d, none) = project(&[]);
        assert!(matches!(none, Err(ProjectError::NotAProject(_))));

        let (_d, no_tool) = project(&[("pyproject.toml", "[project]\nname = \"x\"\n")]);
        let err = no_tool.expect_err("no [tool.crucible]").to_string();
        assert!(err.contains("[tool.crucible] world"), "{err}");

        let (_d, bad_world) = project(&[(
            "package.json",
            r#"{"name": "y", "crucible": {"world": "scenario", "main": "a.js"}}"#,
        )]);
        let err = bad_world.expect_err("an unknown world").to_string();
        assert!(err.contains("`scenario`"), "{err}");

        let (_d, broken) = project(&[("package.json", "{not json")]);
        assert!(matches!(broken, Err(ProjectError::Parse { .. })));
    }
}
