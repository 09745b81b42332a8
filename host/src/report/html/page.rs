//! The whole document: every section in order, the style and the script
//! inline, and the samples as embedded JSON. Nothing is fetched: the page
//! opens from a file, offline.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::super::Cell;
use super::ReportInput;
use super::charts::{Bar, BarGroup, bar_chart};
use super::format::model_colour;
use super::header::{Progress, masthead};
use super::heatmap::{legend, scenario_heatmaps};
use super::pooling::{
    ConditionParams, GOAL_TYPE, Grouping, Pooled, URGENCY, distinct, param_values, pool_cells,
};
use super::tables::{cells_table, comparison_table, secondary_table};

pub(super) const STYLE: &str = include_str!("assets/report.css");
pub(super) const SCRIPT: &str = include_str!("assets/report.js");

/// The document, with `data` (already safe inside a `<script>`) embedded.
pub fn document(input: &ReportInput<'_>, cells: &[Cell], data: &str) -> Markup {
    let run = input.run;
    let params = ConditionParams::of(run);
    let models = distinct(cells, |c| c.model.as_str());
    let scenarios = distinct(cells, |c| c.scenario.as_str());
    let progress = Progress::of(run);
    let heatmaps: Vec<(&str, Markup)> = scenarios
        .iter()
        .filter_map(|s| Some((*s, scenario_heatmaps(cells, &params, &models, s)?)))
        .collect();
    let secondary = secondary_table(cells, &params);
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
                        (overview_chart(cells, &params, &models, &scenarios))
                        @for scenario in &scenarios {
                            @if let Some(charts) = scenario_charts(cells, &params, &models, scenario) { (charts) }
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
fn scenario_charts(
    cells: &[Cell],
    params: &ConditionParams<'_>,
    models: &[&str],
    scenario: &str,
) -> Option<Markup> {
    let of_scenario = |grouping| -> Vec<Pooled> {
        pool_cells(cells, params, grouping)
            .into_iter()
            .filter(|p| p.key.scenario == scenario)
            .collect()
    };
    let by_urgency = of_scenario(Grouping::Urgency);
    let by_goal = of_scenario(Grouping::GoalType);
    let urgency_groups: Vec<BarGroup<'_>> = param_values(cells, params, scenario, URGENCY)
        .into_iter()
        .map(|u| BarGroup {
            bars: bars(models, &by_urgency, |p| {
                p.key.urgency.as_deref() == Some(u.as_str())
            }),
            title: Some(u),
        })
        .collect();
    let goal_groups: Vec<BarGroup<'_>> = param_values(cells, params, scenario, GOAL_TYPE)
        .into_iter()
        .map(|g| BarGroup {
            bars: bars(models, &by_goal, |p| {
                p.key.goal_type.as_deref() == Some(g.as_str())
            }),
            title: Some(g),
        })
        .collect();
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

/// Every scenario, a bar per model, pooled over its conditions.
fn overview_chart(
    cells: &[Cell],
    params: &ConditionParams<'_>,
    models: &[&str],
    scenarios: &[&str],
) -> Markup {
    let pooled = pool_cells(cells, params, Grouping::Scenario);
    let groups: Vec<BarGroup<'_>> = scenarios
        .iter()
        .map(|scenario| BarGroup {
            title: Some((*scenario).to_owned()),
            bars: bars(models, &pooled, |p| p.key.scenario == *scenario),
        })
        .collect();
    bar_chart("Per scenario, all conditions pooled", &groups)
}

/// A group's bars: one per model that has figures there, in the run's
/// order, each in its model's colour.
fn bars<'a>(
    models: &[&'a str],
    pooled: &'a [Pooled],
    keep: impl Fn(&Pooled) -> bool,
) -> Vec<Bar<'a>> {
    models
        .iter()
        .enumerate()
        .filter_map(|(model_index, model)| {
            pooled
                .iter()
                .find(|p| p.key.model == *model && keep(p))
                .map(|pooled| Bar {
                    model,
                    model_index,
                    pooled,
                })
        })
        .collect()
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
