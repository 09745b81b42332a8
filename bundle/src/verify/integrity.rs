//! What a bundle must agree with itself on before anything is re-run: its
//! members' hashes, its components' hashes, and the lockfile's pins.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Category, Difference};
use crate::Bundle;
use crate::format;

pub fn check(bundle: &Bundle) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |category: Category, detail: String| out.push(Difference { category, detail });
    let manifest = &bundle.manifest;

    for (name, entry) in &manifest.files {
        if let Some(bytes) = bundle.members.get(name) {
            let actual = hex::encode(Sha256::digest(bytes));
            if actual != entry.sha256 {
                differ(
                    Category::Member,
                    format!(
                        "member {name} hashes to {actual}; the manifest records {}",
                        entry.sha256
                    ),
                );
            }
        }
    }
    for name in bundle.members.keys() {
        let listed = manifest.files.contains_key(name)
            || manifest
                .components
                .iter()
                .any(|c| format::component_member(&c.sha256) == *name);
        if !listed {
            differ(
                Category::Member,
                format!("member {name} is not in the manifest"),
            );
        }
    }
    let suite = bundle.members.get(format::SUITE).map(Vec::as_slice);
    if suite != Some(bundle.results.suite_manifest.as_bytes()) {
        differ(
            Category::Member,
            format!(
                "{} is not the suite manifest the results record",
                format::SUITE
            ),
        );
    }

    for entry in &manifest.components {
        if let Some(bytes) = bundle.component(&entry.sha256) {
            let actual = hex::encode(Sha256::digest(bytes));
            if actual != entry.sha256 {
                differ(
                    Category::Component,
                    format!(
                        "component {} hashes to {actual}, not the {} it is filed under",
                        entry.plugin, entry.sha256
                    ),
                );
            }
        }
    }
    for plugin in &bundle.results.plugins {
        if !manifest
            .components
            .iter()
            .any(|c| c.sha256 == plugin.sha256)
        {
            differ(
                Category::Component,
                format!(
                    "the run's {} {}@{} (sha256 {}) is not in the bundle",
                    plugin.role, plugin.name, plugin.version, plugin.sha256
                ),
            );
        }
    }

    if let Some(text) = bundle.members.get(format::LOCKFILE) {
        let text = String::from_utf8_lossy(text);
        match crucible_registry::lockfile::Lockfile::parse(Path::new(format::LOCKFILE), &text) {
            Err(e) => differ(Category::Lockfile, format!("it cannot be read: {e}")),
            Ok(lock) => {
                for plugin in &bundle.results.plugins {
                    let pinned = lock.plugins.iter().find(|p| {
                        p.name.to_string() == plugin.name && p.version.to_string() == plugin.version
                    });
                    if let Some(pin) = pinned
                        && pin.sha256.as_str() != plugin.sha256
                    {
                        differ(
                            Category::Lockfile,
                            format!(
                                "it pins {}@{} at sha256 {}, but the run loaded {}",
                                plugin.name,
                                plugin.version,
                                pin.sha256.as_str(),
                                plugin.sha256
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}
