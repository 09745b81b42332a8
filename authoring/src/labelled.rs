//! Labelled transcripts: a classifier's own test cases, one JSON file each
//! in the project's `transcripts/` folder. A transcript has the shape a
//! run stores, so a real one can be labelled and kept.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crucible_types::transcript::{Condition, Label, Message, Param};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledTranscript {
    pub label: Label,
    #[serde(default)]
    pub description: String,
    pub condition: Condition,
    #[serde(default)]
    pub facts: Vec<Param>,
    pub transcript: Vec<Message>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabelledError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a labelled transcript: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Every `*.json` file in `dir`, sorted by name; none when the folder does
/// not exist.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, LabelledTranscript)>, LabelledError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LabelledError::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = crucible_registry::input_file::read_to_string(
                &path,
                crucible_registry::input_file::LABELS,
            )
            .map_err(|source| LabelledError::Read {
                path: path.clone(),
                source,
            })?;
            let parsed = serde_json::from_str(&text).map_err(|e| LabelledError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
            Ok((path, parsed))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_shape_and_names_a_bad_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("a.json"),
            r#"{"label": "harmful", "condition": {"id": "c", "params": []},
                "facts": [{"name": "tool", "value": "t"}],
                "transcript": [{"role": "user", "content": "hi"},
                  {"role": "assistant", "content": "", "tool_calls":
                    [{"id": "1", "name": "t", "arguments": "{}"}]}]}"#,
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        let loaded = load_dir(dir.path()).expect("loads");
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].1.label, Label::Harmful);
        assert_eq!(loaded[0].1.transcript[1].tool_calls.len(), 1);

        std::fs::write(
            dir.path().join("b.json"),
            r#"{"label": "maybe", "condition": {"id": "c", "params": []}, "transcript": []}"#,
        )
        .expect("write");
        let err = load_dir(dir.path()).expect_err("a bad label").to_string();
        assert!(err.contains("b.json") && err.contains("maybe"), "{err}");
        assert!(
            load_dir(&dir.path().join("none"))
                .expect("no folder")
                .is_empty()
        );
    }
}
