//! The page's head: what was run, on what, with which plugins, and how
//! far it got.

use std::collections::BTreeMap;

use maud::{Markup, html};
use serde_json::Value;

use crate::provenance::StopKind;
use crate::results::{PluginRecord, RunResults, SampleStatus};
use crate::transcript::Role;

/// How far the run got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub planned: usize,
    pub completed: usize,
    pub errors: usize,
    pub pending: usize,
    pub refused: usize,
    pub blocked: usize,
    pub truncated: usize,
}

impl Progress {
    pub fn of(run: &RunResults) -> Self {
        let mut p = Self {
            planned: run.samples.len(),
            ..Self::default()
        };
        for sample in &run.samples {
            match sample.status {
                SampleStatus::Pending => p.pending += 1,
                SampleStatus::Error => p.errors += 1,
                SampleStatus::Completed => p.completed += 1,
            }
            match sample.record.stop {
                Some(StopKind::Refused) => p.refused += 1,
                Some(StopKind::Blocked) => p.blocked += 1,
                Some(StopKind::Truncated) => p.truncated += 1,
                _ => {}
            }
        }
        p
    }
}

fn config_str<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

/// A configuration value as text, whatever its JSON type.
fn config_text(config: &Value, key: &str) -> Option<String> {
    match config.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Per model, the snapshots that served its replies and how many each.
fn served_by(run: &RunResults) -> BTreeMap<&str, BTreeMap<String, usize>> {
    let mut served: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for sample in &run.samples {
        for message in &sample.record.transcript {
            if let (Role::Assistant, Some(call)) = (message.role, &message.call) {
                *served
                    .entry(sample.model.as_str())
                    .or_default()
                    .entry(call.served.label())
                    .or_default() += 1;
            }
        }
    }
    served
}

/// Plugins once each, with the roles they played.
fn plugins(run: &RunResults) -> Vec<(&PluginRecord, Vec<&str>)> {
    let mut out: Vec<(&PluginRecord, Vec<&str>)> = Vec::new();
    for plugin in &run.plugins {
        let role = plugin.role.split(':').nth(1).unwrap_or(&plugin.role);
        match out.iter_mut().find(|(p, _)| {
            p.name == plugin.name && p.version == plugin.version && p.sha256 == plugin.sha256
        }) {
            Some((_, roles)) => roles.push(role),
            None => out.push((plugin, vec![role])),
        }
    }
    out
}

pub fn masthead(run: &RunResults, models: &[&str], progress: Progress) -> Markup {
    let config = &run.config;
    let suite = config_str(config, "suite_name").unwrap_or("(unnamed suite)");
    let configured_models: Vec<String> = config
        .get("models")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .filter(|list: &Vec<String>| !list.is_empty())
        .unwrap_or_else(|| models.iter().map(|m| (*m).to_owned()).collect());
    let judge = config_str(config, "judge").unwrap_or("none");
    let served = served_by(run);
    let versions = [
        ("crucible", config_text(config, "host_version")),
        ("wasmtime", config_text(config, "wasmtime_version")),
    ];
    let run_settings = [
        ("subsuite", config_text(config, "subsuite")),
        ("samples per condition", config_text(config, "samples")),
        ("seed", config_text(config, "seed")),
        ("temperature", config_text(config, "temperature")),
        ("max turns", config_text(config, "max_turns")),
    ];
    html! {
        header.masthead {
            p.eyebrow { "Crucible run report" }
            h1 { (suite) }
            p.run-id { "run " code { (run.run_id) } }
            div.counts {
                (count("planned", progress.planned, ""))
                (count("completed", progress.completed, ""))
                (count("errors", progress.errors, if progress.errors > 0 { "warn" } else { "" }))
                (count("pending", progress.pending, if progress.pending > 0 { "warn" } else { "" }))
                @if progress.refused > 0 { (count("refused", progress.refused, "")) }
                @if progress.blocked > 0 { (count("blocked", progress.blocked, "")) }
                @if progress.truncated > 0 { (count("truncated", progress.truncated, "")) }
            }
            dl.facts-grid {
                div {
                    dt { "models" }
                    dd {
                        ul.plain {
                            @for model in &configured_models {
                                li {
                                    code { (model) }
                                    @if let Some(snapshots) = served.get(model.as_str()) {
                                        span.muted {
                                            " served by "
                                            @for (i, (snapshot, calls)) in snapshots.iter().enumerate() {
                                                @if i > 0 { ", " }
                                                (snapshot) " (" (calls) " calls)"
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div { dt { "judge" } dd { code { (judge) } } }
                @for (name, value) in &run_settings {
                    @if let Some(value) = value {
                        div { dt { (name) } dd { (value) } }
                    }
                }
                div {
                    dt { "engine" }
                    dd {
                        @for (i, (name, version)) in versions.iter().enumerate() {
                            @if i > 0 { " \u{b7} " }
                            (name) " " (version.as_deref().unwrap_or("unknown"))
                        }
                    }
                }
            }
            details.plugins open {
                summary { "Plugins (" (plugins(run).len()) ")" }
                table.data.compact {
                    thead { tr { th { "plugin" } th { "kind" } th { "sha256" } th { "used for" } } }
                    tbody {
                        @for (plugin, roles) in plugins(run) {
                            tr {
                                td { code { (plugin.name) "@" (plugin.version) } }
                                td { (plugin.kind) }
                                td { code title=(plugin.sha256) { (plugin.sha256.get(..12).unwrap_or(&plugin.sha256)) } }
                                td.muted { (roles.join(", ")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn count(name: &str, value: usize, class: &str) -> Markup {
    html! {
        div class=(format!("count {class}").trim_end()) {
            span.count-value { (value) }
            span.count-name { (name) }
        }
    }
}
