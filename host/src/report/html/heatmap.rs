//! The condition matrix as heatmaps: per model and scenario, goal types
//! down, urgencies across, each cell coloured by its harmful rate with its
//! counts. A cell is a button the transcript browser answers: its samples.

use std::collections::HashMap;

use maud::{Markup, html};

use super::super::Cell;
use super::format::{
    interval, percent, percent_whole, rate_colour, rate_gradient_stops, text_on_rate,
};
use super::pooling::{
    ConditionParams, GOAL_TYPE, Grouping, Pooled, URGENCY, param_values, pool_cells,
};

/// The heatmaps of `scenario`, one per model; nothing when its conditions
/// lack the goal type or the urgency.
pub fn scenario_heatmaps(
    cells: &[Cell],
    params: &ConditionParams<'_>,
    models: &[&str],
    scenario: &str,
) -> Option<Markup> {
    if !params.has_matrix(scenario) {
        return None;
    }
    let goal_types = param_values(cells, params, scenario, GOAL_TYPE);
    let urgencies = param_values(cells, params, scenario, URGENCY);
    let pooled = pool_cells(cells, params, Grouping::GoalTypeAndUrgency);
    let lookup: HashMap<(&str, &str, &str), &Pooled> = pooled
        .iter()
        .filter(|p| p.key.scenario == scenario)
        .filter_map(|p| {
            Some((
                (
                    p.key.model.as_str(),
                    p.key.goal_type.as_deref()?,
                    p.key.urgency.as_deref()?,
                ),
                p,
            ))
        })
        .collect();
    let models: Vec<&str> = models
        .iter()
        .copied()
        .filter(|m| {
            cells
                .iter()
                .any(|c| c.model == *m && c.scenario == scenario)
        })
        .collect();
    Some(html! {
        div.heatmaps {
            @for model in &models {
                figure.heatmap {
                    figcaption { (model) }
                    table {
                        thead {
                            tr {
                                th.corner scope="col" { "goal type \u{2193} urgency \u{2192}" }
                                @for urgency in &urgencies { th scope="col" { (urgency) } }
                            }
                        }
                        tbody {
                            @for goal_type in &goal_types {
                                tr {
                                    th scope="row" { (goal_type) }
                                    @for urgency in &urgencies {
                                        td {
                                            @match lookup.get(&(*model, goal_type.as_str(), urgency.as_str())) {
                                                Some(p) => (cell_button(p)),
                                                None => span.hm-empty title="no condition" { "\u{00b7}" },
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn cell_button(p: &Pooled) -> Markup {
    let goal_type = p.key.goal_type.as_deref().unwrap_or_default();
    let urgency = p.key.urgency.as_deref().unwrap_or_default();
    let style = p.rate.map_or_else(String::new, |rate| {
        format!(
            "background:{};color:{}",
            rate_colour(rate),
            text_on_rate(rate)
        )
    });
    let mut title = format!(
        "{} \u{b7} {} \u{b7} goal type {goal_type} \u{b7} urgency {urgency}\n{} harmful of {} ({}) {}",
        p.key.model,
        p.key.scenario,
        p.harmful,
        p.completed,
        percent(p.rate),
        interval(p.ci)
    );
    if p.errors > 0 || p.stopped > 0 {
        title.push_str(&format!(
            "\n{} errors, {} refused/blocked/truncated",
            p.errors, p.stopped
        ));
    }
    title.push_str("\nClick to browse these transcripts.");
    html! {
        button.hm-cell.no-rate[p.rate.is_none()] type="button" style=(style) title=(title)
            data-model=(p.key.model) data-scenario=(p.key.scenario)
            data-goal-type=(goal_type) data-urgency=(urgency) {
            span.hm-rate { (p.rate.map_or_else(|| "\u{2013}".to_owned(), percent_whole)) }
            span.hm-n {
                (format!("{}/{}", p.harmful, p.completed))
                @if p.errors > 0 { " \u{b7} " (p.errors) " err" }
                @if p.pending() > 0 { " \u{b7} " (p.pending()) " pending" }
            }
        }
    }
}

/// The colour scale's key.
pub fn legend() -> Markup {
    let stops: Vec<String> = rate_gradient_stops()
        .iter()
        .map(|(at, colour)| format!("{colour} {:.0}%", at * 100.0))
        .collect();
    html! {
        div.scale-legend {
            span { "0%" }
            span.scale-bar style=(format!("background:linear-gradient(to right,{})", stops.join(","))) {}
            span { "100% harmful" }
            span.scale-note { "Each cell: harmful rate, harmful/completed, errors. Click a cell to read its transcripts." }
        }
    }
}
