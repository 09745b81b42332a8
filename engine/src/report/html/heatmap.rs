//! The condition matrix as heatmaps: per model and scenario, goal types
//! down, urgencies across, each cell coloured by its harmful rate with its
//! counts. A cell is a button the transcript browser answers: its samples.

use maud::{Markup, html};

use super::format::{
    interval, percent, percent_whole, rate_colour, rate_gradient_stops, text_on_rate,
};
use crate::report::groups::{Group, Pool};
use crate::report::matrix::{Matrix, shared_axes};

/// The heatmaps of `scenario`, one per model, on shared axes; nothing
/// when its conditions lack the goal type or the urgency.
pub fn scenario_heatmaps(groups: &[Group], models: &[&str], scenario: &str) -> Option<Markup> {
    let matrices: Vec<(&str, &Matrix)> = models
        .iter()
        .filter_map(|model| {
            let group = groups
                .iter()
                .find(|g| g.model == *model && g.scenario == scenario)?;
            Some((*model, group.matrix.as_ref()?))
        })
        .collect();
    if matrices.is_empty() {
        return None;
    }
    let (goal_types, urgencies) =
        shared_axes(&matrices.iter().map(|(_, m)| *m).collect::<Vec<_>>());
    Some(html! {
        div.heatmaps {
            @for (model, matrix) in &matrices {
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
                                            @match matrix.cell(goal_type, urgency) {
                                                Some(cell) => (cell_button(&MatrixPlace { model, scenario, goal_type, urgency }, &cell.pool)),
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

/// Where a heatmap cell sits: what the transcript browser filters on.
struct MatrixPlace<'a> {
    model: &'a str,
    scenario: &'a str,
    goal_type: &'a str,
    urgency: &'a str,
}

fn cell_button(place: &MatrixPlace<'_>, p: &Pool) -> Markup {
    let MatrixPlace {
        model,
        scenario,
        goal_type,
        urgency,
    } = *place;
    let rate = p.rate();
    let style = rate.map_or_else(String::new, |rate| {
        format!(
            "background:{};color:{}",
            rate_colour(rate),
            text_on_rate(rate)
        )
    });
    let mut title = format!(
        "{model} \u{b7} {scenario} \u{b7} goal type {goal_type} \u{b7} urgency {urgency}\n{} harmful of {} ({}) {}",
        p.harmful,
        p.completed,
        percent(rate),
        interval(p.interval())
    );
    if p.errors > 0 || p.stopped() > 0 {
        title.push_str(&format!(
            "\n{} errors, {} refused/blocked/truncated",
            p.errors,
            p.stopped()
        ));
    }
    title.push_str("\nClick to browse these transcripts.");
    html! {
        button.hm-cell.no-rate[rate.is_none()] type="button" style=(style) title=(title)
            data-model=(model) data-scenario=(scenario)
            data-goal-type=(goal_type) data-urgency=(urgency) {
            span.hm-rate { (rate.map_or_else(|| "\u{2013}".to_owned(), percent_whole)) }
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
