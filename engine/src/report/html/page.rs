//! The whole document: every section in order, the style and the script
//! inline, and the samples as embedded JSON. Nothing is fetched: the page
//! opens from a file, offline.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::ReportInput;
use super::charts::{Bar, BarGroup, bar_chart};
use super::format::model_colour;
use super::header::{Progress, masthead};
use super::heatmap::{legend, scenario_heatmaps};
use super::tables::{cells_table, comparison_table, secondary_table};
use crate::figures::Cell;
use crate::report::groups::{ConditionParams, Group, Pool, ValuePool, groups};
use crate::report::matrix::{GOAL_TYPES, URGENCIES, ordered};

pub(super) const STYLE: &str = include_str!("assets/report.css");
pub(super) const SCRIPT: &str = include_str!("assets/report.js");

/// The document, with `data` (already safe inside a `<script>`) embedded.
pub fn document(input: &ReportInput<'_>, cells: &[Cell], data: &str) -> Markup {
    let run = input.run;
    let groups = groups(cells, &ConditionParams::of_run(run));
    let models = distinct(cells, |c| c.model.as_str());
    let scenarios = distinct(cells, |c| c.scenario.as_str());
    let progress = Progress::of(run);
    let heatmaps: Vec<(&str, Markup)> = scenarios
        .iter()
        .filter_map(|s| Some((*s, scenario_heatmaps(&groups, &models, s)?)))
        .collect();
    let secondary = secondary_table(&groups);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Crucible report \u{b7} " (run.run_id) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    @if progress.pending > 0 {
                        div.banner role="status" {
                            strong { (progress.pending) " samples pending" }
                            " \u{2014} this run is not finished: the figures below cover the "
                            (progress.planned.saturating_sub(progress.pending)) " samples that have run. Resume it with "
                            code { "crucible run --resume " (run.run_id) }
                            "."
                        }
                    }
                    (masthead(run, &models, progress))
                    nav.toc {
                        a href="#rates" { "Harmful rates" }
                        @if !heatmaps.is_empty() { a href="#matrix" { "Condition matrix" } }
                        @if secondary.is_some() { a href="#secondary" { "Secondary classifiers" } }
                        @if input.comparison.is_some() { a href="#comparison" { "Comparison" } }
                        a href="#transcripts" { "Transcripts" }
                        a href="#cells" { "All cells" }
                    }
                    section #rates {
                        h2 { "Harmful rates" }
                        p.lede {
                            "Harmful of completed samples, with Wilson 95% intervals. Samples in error, and those refused, blocked or truncated (unless judged harmful), are outside the rate. Judge: "
                            code { (run.config.get("judge").and_then(|j| j.as_str()).unwrap_or("none")) } "."
                        }
                        div.model-legend {
                            @for (i, model) in models.iter().enumerate() {
                                span.model-key { span.swatch style=(format!("background:{}", model_colour(i))) {} (model) }
                            }
                        }
                        (overview_chart(&groups, &models, &scenarios))
                        @for scenario in &scenarios {
                            @if let Some(charts) = scenario_charts(&groups, &models, scenario) { (charts) }
                        }
                    }
                    @if !heatmaps.is_empty() {
                        section #matrix {
                            h2 { "Condition matrix" }
                            p.lede { "Per model and scenario: goal type by urgency, pooled over goal values." }
                            (legend())
                            @for (scenario, heatmap) in &heatmaps {
                                div.scenario-block {
                                    h3 { (scenario) }
                                    (heatmap)
                                }
                            }
                        }
                    }
                    @if let Some(table) = &secondary {
                        section #secondary {
                            h2 { "Secondary classifiers" }
                            p.lede { "Each classifier after the primary one, on the completed samples of each model and scenario: positive of those it judged, with Wilson 95% intervals, and the samples it could not judge." }
                            (table)
                        }
                    }
                    @if let Some(comparison) = input.comparison {
                        section #comparison {
                            h2 { "Comparison" }
                            (comparison_table(comparison))
                        }
                    }
                    section #transcripts {
                        h2 { "Transcripts" }
                        (browser_skeleton())
                    }
                    section #cells {
                        details {
                            summary { h2 { "All cells (" (cells.len()) ")" } }
                            (cells_table(cells))
                        }
                    }
                    footer {
                        "Written by crucible from run " code { (run.run_id) }
                        ". A single file: it loads nothing from the network."
                    }
                }
                script type="application/json" #crucible-data { (PreEscaped(data)) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// A scenario's charts by urgency and by goal type, where its conditions
/// have those parameters.
fn scenario_charts(groups: &[Group], models: &[&str], scenario: &str) -> Option<Markup> {
    let urgency_groups = bar_groups(groups, models, scenario, URGENCIES, |g| &g.by_urgency);
    let goal_groups = bar_groups(groups, models, scenario, GOAL_TYPES, |g| &g.by_goal_type);
    if urgency_groups.is_empty() && goal_groups.is_empty() {
        return None;
    }
    Some(html! {
        div.scenario-block {
            h3 { (scenario) }
            div.charts {
                @if !urgency_groups.is_empty() {
                    (bar_chart("By urgency", &urgency_groups))
                }
                @if !goal_groups.is_empty() {
                    (bar_chart("By goal type", &goal_groups))
                }
            }
        }
    })
}

/// One bar group per value of a parameter (in the study's `order`, then
/// any other values), each with the bars of the models that have it.
fn bar_groups<'a>(
    groups: &'a [Group],
    models: &[&'a str],
    scenario: &str,
    order: &[&str],
    by_value: impl Fn(&'a Group) -> &'a [ValuePool],
) -> Vec<BarGroup<'a>> {
    let mine: Vec<&Group> = groups.iter().filter(|g| g.scenario == scenario).collect();
    let values = ordered(
        mine.iter()
            .flat_map(|g| by_value(g).iter().map(|v| v.value.as_str())),
        order,
    );
    values
        .into_iter()
        .map(|value| BarGroup {
            bars: bars(models, &mine, |g| {
                by_value(g)
                    .iter()
                    .find(|v| v.value == value)
                    .map(|v| &v.pool)
            }),
            title: Some(value),
        })
        .collect()
}

/// Every scenario, a bar per model, pooled over its conditions.
fn overview_chart(groups: &[Group], models: &[&str], scenarios: &[&str]) -> Markup {
    let bar_groups: Vec<BarGroup<'_>> = scenarios
        .iter()
        .map(|scenario| {
            let mine: Vec<&Group> = groups.iter().filter(|g| g.scenario == *scenario).collect();
            BarGroup {
                title: Some((*scenario).to_owned()),
                bars: bars(models, &mine, |g| Some(&g.pool)),
            }
        })
        .collect();
    bar_chart("Per scenario, all conditions pooled", &bar_groups)
}

/// A bar group's bars: one per model that has figures there, in the
/// run's order, each in its model's colour. `groups` are one scenario's.
fn bars<'a>(
    models: &[&'a str],
    groups: &[&'a Group],
    pool: impl Fn(&'a Group) -> Option<&'a Pool>,
) -> Vec<Bar<'a>> {
    models
        .iter()
        .enumerate()
        .filter_map(|(model_index, model)| {
            let group = groups.iter().find(|g| g.model == *model)?;
            Some(Bar {
                model,
                model_index,
                pool: pool(group)?,
            })
        })
        .collect()
}

/// Distinct values of `field` over `cells`, in the order they appear.
fn distinct<'a>(cells: &'a [Cell], field: impl Fn(&'a Cell) -> &'a str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for cell in cells {
        let value = field(cell);
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// The transcript browser's frame; the script fills it from the data.
fn browser_skeleton() -> Markup {
    html! {
        noscript { p.banner { "The transcript browser needs JavaScript; the figures above do not." } }
        div #browser.browser {
            form #filters.filters {
                @for (key, label) in [
                    ("model", "Model"),
                    ("scenario", "Scenario"),
                    ("goal_type", "Goal type"),
                    ("urgency", "Urgency"),
                    ("condition", "Condition"),
                    ("verdict", "Verdict"),
                    ("stop", "Refusal / stop"),
                ] {
                    label.filter data-filter-label=(key) {
                        span { (label) }
                        select data-filter=(key) {}
                    }
                }
                label.filter.search {
                    span { "Text" }
                    input #search type="search" placeholder="search transcripts";
                }
                button #reset-filters type="button" { "Clear filters" }
            }
            div.panes {
                div.list-pane {
                    p #match-count.muted {}
                    ol #sample-list {}
                }
                article #sample-view.sample-view {
                    p.placeholder { "Select a sample to read its transcript, verdicts and judge exchange, or click a cell of the condition matrix." }
                }
            }
        }
    }
}
