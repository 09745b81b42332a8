//! Finding the tools that turn a project into a component, and saying in
//! one line how to install the one that is missing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned componentizer versions the templates and the guide name.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
pub const GUEST_TARGET: &str = "wasm32-wasip2";

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("{tool} is not installed: {install}")]
    Missing { tool: &'static str, install: String },
}

/// `cargo`, with the guest target installed.
pub fn cargo() -> Result<PathBuf, ToolchainError> {
    let cargo = on_path("cargo").ok_or_else(|| ToolchainError::Missing {
        tool: "cargo",
        install:
            "install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip2`"
                .into(),
    })?;
    if !guest_target_installed() {
        return Err(ToolchainError::Missing {
            tool: "the Rust target wasm32-wasip2",
            install: "run `rustup target add wasm32-wasip2`".into(),
        });
    }
    Ok(cargo)
}

/// `componentize-py`: the project's own virtualenv first, then `PATH`.
pub fn componentize_py(project: &Path) -> Result<PathBuf, ToolchainError> {
    find_componentize_py(project, std::env::var_os("PATH"))
}

fn find_componentize_py(
    project: &Path,
    search: Option<OsString>,
) -> Result<PathBuf, ToolchainError> {
    let local = project.join(".venv/bin/componentize-py");
    if is_executable(&local) {
        return Ok(local);
    }
    in_dirs(search, "componentize-py").ok_or_else(|| ToolchainError::Missing {
        tool: "componentize-py",
        install: format!(
            "run `python3 -m venv .venv && .venv/bin/pip install componentize-py=={COMPONENTIZE_PY_VERSION}` in {}, or put componentize-py {COMPONENTIZE_PY_VERSION} on PATH",
            project.display()
        ),
    })
}

/// `componentize-js`: the project's `node_modules` first, then `PATH`.
pub fn componentize_js(project: &Path) -> Result<PathBuf, ToolchainError> {
    find_componentize_js(project, std::env::var_os("PATH"))
}

fn find_componentize_js(
    project: &Path,
    search: Option<OsString>,
) -> Result<PathBuf, ToolchainError> {
    if in_dirs(search.clone(), "node").is_none() {
        return Err(ToolchainError::Missing {
            tool: "Node.js",
            install: "install Node.js 20 or later (https://nodejs.org), then run `npm install` in the project".into(),
        });
    }
    let local = project.join("node_modules/.bin/componentize-js");
    if is_executable(&local) {
        return Ok(local);
    }
    in_dirs(search, "componentize-js").ok_or_else(|| ToolchainError::Missing {
        tool: "componentize-js",
        install: format!(
            "run `npm install` in {} (its package.json pins @bytecodealliance/componentize-js {COMPONENTIZE_JS_VERSION})",
            project.display()
        ),
    })
}

/// Whether the active Rust toolchain has the guest target's standard
/// library. Without rustc to ask, cargo's own error will say.
fn guest_target_installed() -> bool {
    let Ok(output) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        return true;
    };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    !output.status.success()
        || Path::new(&sysroot)
            .join("lib/rustlib")
            .join(GUEST_TARGET)
            .is_dir()
}

fn on_path(program: &str) -> Option<PathBuf> {
    in_dirs(std::env::var_os("PATH"), program)
}

/// The first executable `program` in a `PATH`-style list of directories.
fn in_dirs(search: Option<OsString>, program: &str) -> Option<PathBuf> {
    std::env::split_paths(&search?)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn a_missing_componentizer_says_how_to_install_it() {
        let project = tempfile::tempdir().expect("a temporary directory");
        let empty = tempfile::tempdir().expect("an empty PATH directory");
        let search = Some(empty.path().as_os_str().to_owned());

        let py = find_componentize_py(project.path(), search.clone()).expect_err("nothing to find");
        assert!(
            py.to_string()
                .contains("pip install componentize-py==0.25.1"),
            "{py}"
        );

        let no_node = find_componentize_js(project.path(), search).expect_err("no node");
        assert!(
            no_node.to_string().starts_with("Node.js is not installed"),
            "{no_node}"
        );

        executable(&empty.path().join("node"));
        let search = Some(empty.path().as_os_str().to_owned());
        let js = find_componentize_js(project.path(), search).expect_err("no componentize-js");
        assert!(js.to_string().contains("run `npm install`"), "{js}");
    }

    #[test]
    fn a_project_local_tool_wins_over_path() {
        let project = tempfile::tempdir().expect("a temporary directory");
        let elsewhere = tempfile::tempdir().expect("a PATH directory");
        executable(&elsewhere.path().join("componentize-py"));
        let search = Some(elsewhere.path().as_os_str().to_owned());
        assert_eq!(
            find_componentize_py(project.path(), search.clone()).expect("on PATH"),
            elsewhere.path().join("componentize-py")
        );
        let local = project.path().join(".venv/bin/componentize-py");
        executable(&local);
        assert_eq!(
            find_componentize_py(project.path(), search).expect("local"),
            local
        );
    }
}
