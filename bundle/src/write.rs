//! Making a bundle from a finished run.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::BundleError;
use super::format::{self, ComponentEntry, CreatedBy, FileEntry, Manifest};
use crucible_engine::portable;
use crucible_engine::results::{RunResults, figures};
use crucible_engine::store::Store;

/// What `write` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// Compressed size, in bytes.
    pub size: u64,
    pub samples: usize,
    pub components: usize,
}

/// Bundles the finished run in `run` (a run directory or its store) into
/// `out`, written whole or not at all.
pub fn write(run: &Path, out: &Path) -> Result<Written, BundleError> {
    let results = crucible_engine::store::read_run(run)?;
    results.require_finished(run)?;
    let store = if run.is_dir() {
        crucible_engine::store::results_path(run)
    } else {
        run.to_owned()
    };
    let kept: BTreeMap<String, Vec<u8>> = Store::read_components(&store)?.into_iter().collect();
    write_results(&results, &kept, out)
}

/// Bundles `results` with the components it names (its plugins' and its
/// label sets'), taken from `kept` by sha256, into `out`.
pub fn write_results(
    results: &RunResults,
    kept: &BTreeMap<String, Vec<u8>>,
    out: &Path,
) -> Result<Written, BundleError> {
    let mut results = results.clone();
    make_portable(&mut results);
    let named = results
        .plugins
        .iter()
        .map(|p| (p.sha256.as_str(), p.id(), p.kind.as_str()))
        .chain(
            results
                .label_sets
                .iter()
                .map(|s| (s.sha256.as_str(), s.classifier.clone(), "classifier")),
        );
    let mut components: Vec<(ComponentEntry, &[u8])> = Vec::new();
    for (sha256, plugin, kind) in named {
        if components.iter().any(|(c, _)| c.sha256 == sha256) {
            continue;
        }
        let bytes = kept
            .get(sha256)
            .ok_or_else(|| BundleError::MissingComponent {
                run_id: results.run_id.clone(),
                plugin: plugin.clone(),
                sha256: sha256.to_owned(),
            })?;
        components.push((
            ComponentEntry {
                sha256: sha256.to_owned(),
                size: bytes.len() as u64,
                plugin,
                kind: kind.to_owned(),
            },
            bytes,
        ));
    }

    // Plain data with string keys: serializing cannot fail.
    let results_json = serde_json::to_vec(&results).unwrap_or_default();
    let figures_json = serde_json::to_vec_pretty(&figures(&results)).unwrap_or_default();
    let mut members: Vec<(String, Vec<u8>)> = vec![
        (
            format::SUITE.to_owned(),
            results.suite_manifest.clone().into_bytes(),
        ),
        (format::RESULTS.to_owned(), results_json),
        (format::FIGURES.to_owned(), figures_json),
    ];
    if let Some(lockfile) = &results.lockfile {
        members.push((format::LOCKFILE.to_owned(), lockfile.clone().into_bytes()));
    }
    let files = members
        .iter()
        .map(|(name, bytes)| {
            (
                name.clone(),
                FileEntry {
                    sha256: hex::encode(Sha256::digest(bytes)),
                    size: bytes.len() as u64,
                },
            )
        })
        .collect();
    let manifest = Manifest {
        format: format::FORMAT.to_owned(),
        format_version: format::FORMAT_VERSION,
        created_by: CreatedBy {
            crucible: env!("CARGO_PKG_VERSION").to_owned(),
            wasmtime: crucible_engine::plugin::WASMTIME_VERSION.to_owned(),
        },
        run_id: results.run_id.clone(),
        suite_file: suite_file(&results),
        components: components.iter().map(|(c, _)| c.clone()).collect(),
        files,
    };

    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BundleError::Io { path, source }
    };
    let dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let temp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
    {
        let gz = flate2::write::GzEncoder::new(temp.as_file(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let manifest_json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        append(&mut tar, format::MANIFEST, &manifest_json).map_err(io(out))?;
        for (name, bytes) in &members {
            append(&mut tar, name, bytes).map_err(io(out))?;
        }
        for (entry, bytes) in &components {
            append(&mut tar, &format::component_member(&entry.sha256), bytes).map_err(io(out))?;
        }
        let gz = tar.into_inner().map_err(io(out))?;
        let mut file = gz.finish().map_err(io(out))?;
        file.flush().map_err(io(out))?;
        file.sync_all().map_err(io(out))?;
    }
    temp.persist(out).map_err(|e| BundleError::Io {
        path: out.to_owned(),
        source: e.error,
    })?;
    let size = std::fs::metadata(out).map_err(io(out))?.len();
    Ok(Written {
        path: out.to_owned(),
        size,
        samples: results.samples.len(),
        components: components.len(),
    })
}

/// One member with a header that says nothing of the machine: no owner,
/// no time, one mode. The same run always makes the same bytes.
fn append<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, bytes)
}

/// A run begun before stores kept no path of the machine may have
/// recorded its suite's absolute path, a local component's, and absolute
/// paths in its suite manifest and lockfile: a bundle keeps none of them.
fn make_portable(results: &mut RunResults) {
    if let Some(suite) = results.config.get_mut("suite")
        && let Some(text) = suite.as_str()
    {
        let name = Path::new(text)
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        *suite = serde_json::Value::String(name);
    }
    for plugin in &mut results.plugins {
        plugin.source = portable::path(&plugin.source).into_owned();
    }
    results.suite_manifest = portable::toml(&results.suite_manifest).into_owned();
    if let Some(lockfile) = &mut results.lockfile {
        *lockfile = portable::toml(lockfile).into_owned();
    }
}

fn suite_file(results: &RunResults) -> String {
    results
        .config
        .get("suite")
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_owned()
}
