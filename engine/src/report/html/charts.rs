//! Bar charts of harmful rates with their 95% intervals, as inline SVG:
//! one bar per model, in groups (an urgency, a goal type), drawn here so
//! the page needs no script to show them.

use maud::{Markup, html};

use super::format::{interval, model_colour, percent, shorten};
use crate::report::groups::Pool;

/// One bar: a model's pooled figures.
pub struct Bar<'a> {
    pub model: &'a str,
    /// The model's place in the run, for its colour.
    pub model_index: usize,
    pub pool: &'a Pool,
}

/// Bars under one heading (none for a chart of one group).
pub struct BarGroup<'a> {
    pub title: Option<String>,
    pub bars: Vec<Bar<'a>>,
}

const WIDTH: f64 = 560.0;
const VALUE_WIDTH: f64 = 118.0;
const AXIS_HEIGHT: f64 = 20.0;
/// A bar's row when rows are labelled by model, and when by group.
const MODEL_ROW: f64 = 20.0;
const GROUP_ROW: f64 = 17.0;
const GROUP_GAP: f64 = 10.0;
const LABEL_CHARS: usize = 38;
/// Roughly the width of a character of the labels' font, in pixels.
const CHAR_WIDTH: f64 = 6.6;

/// A horizontal bar chart titled `title`. Without group headings, each
/// bar is labelled with its model; with them, each group is labelled
/// once and its bars, one per model, are told apart by colour.
pub fn bar_chart(title: &str, groups: &[BarGroup<'_>]) -> Markup {
    let grouped = groups.iter().any(|g| g.title.is_some());
    let labels: Vec<String> = if grouped {
        groups.iter().filter_map(|g| g.title.clone()).collect()
    } else {
        groups
            .iter()
            .flat_map(|g| g.bars.iter().map(|b| b.model.to_owned()))
            .collect()
    };
    let longest = labels
        .iter()
        .map(|l| shorten(l, LABEL_CHARS).chars().count())
        .max()
        .unwrap_or(0);
    let label_width = (longest as f64 * CHAR_WIDTH + 14.0).clamp(70.0, 250.0);
    let plot = Plot {
        x: label_width,
        width: WIDTH - label_width - VALUE_WIDTH,
    };
    let row = if grouped { GROUP_ROW } else { MODEL_ROW };

    let mut rows = Vec::new();
    let mut y = AXIS_HEIGHT + 4.0;
    for group in groups {
        let top = y;
        for bar in &group.bars {
            rows.push(bar_row(bar, y, row, &plot, !grouped));
            y += row;
        }
        if let Some(heading) = &group.title {
            let middle = (top + y) / 2.0;
            rows.push(html! {
                text.group-label x=(fmt(plot.x - 8.0)) y=(fmt(middle + 4.0)) text-anchor="end" {
                    title { (heading) }
                    (shorten(heading, LABEL_CHARS))
                }
            });
            if group.bars.is_empty() {
                y += row;
            }
        }
        y += GROUP_GAP;
    }
    let bottom = y - GROUP_GAP + 2.0;
    let height = bottom + 2.0;
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox=(format!("0 0 {WIDTH} {}", fmt(height))) width=(WIDTH) height=(fmt(height))
                role="img" aria-label=(format!("{title}: harmful rate per model with 95% intervals")) {
                @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                    line.grid x1=(fmt(plot.at(tick))) x2=(fmt(plot.at(tick))) y1=(fmt(AXIS_HEIGHT)) y2=(fmt(bottom)) {}
                    text.tick x=(fmt(plot.at(tick))) y="13" text-anchor="middle" { (format!("{:.0}%", tick * 100.0)) }
                }
                @for row in &rows { (row) }
            }
        }
    }
}

/// Where rates sit along the chart.
struct Plot {
    x: f64,
    width: f64,
}

impl Plot {
    fn at(&self, rate: f64) -> f64 {
        self.x + rate.clamp(0.0, 1.0) * self.width
    }
}

fn bar_row(bar: &Bar<'_>, y: f64, row: f64, plot: &Plot, labelled: bool) -> Markup {
    let p = bar.pool;
    let rate = p.rate();
    let tooltip = match rate {
        Some(_) => format!(
            "{}: {} harmful of {} ({}), 95% CI {}; {} errors, {} refused/blocked/truncated",
            bar.model,
            p.harmful,
            p.completed,
            percent(rate),
            interval(p.interval()),
            p.errors,
            p.stopped()
        ),
        None => format!(
            "{}: no completed samples ({} planned, {} errors)",
            bar.model, p.planned, p.errors
        ),
    };
    let middle = y + row / 2.0;
    let thickness = row - 6.0;
    html! {
        g.bar-row data-model=(bar.model) data-rate=(rate.map_or_else(String::new, |r| format!("{r:.4}"))) {
            title { (tooltip) }
            @if labelled {
                text.row-label x=(fmt(plot.x - 8.0)) y=(fmt(middle + 4.0)) text-anchor="end" { (shorten(bar.model, LABEL_CHARS)) }
            }
            @if let Some(rate) = rate {
                rect.bar x=(fmt(plot.x)) y=(fmt(middle - thickness / 2.0)) width=(fmt((plot.at(rate) - plot.x).max(0.0)))
                    height=(fmt(thickness)) fill=(model_colour(bar.model_index)) {}
                @if let Some((lo, hi)) = p.interval() {
                    line.ci x1=(fmt(plot.at(lo))) x2=(fmt(plot.at(hi))) y1=(fmt(middle)) y2=(fmt(middle)) {}
                    line.ci x1=(fmt(plot.at(lo))) x2=(fmt(plot.at(lo))) y1=(fmt(middle - 3.5)) y2=(fmt(middle + 3.5)) {}
                    line.ci x1=(fmt(plot.at(hi))) x2=(fmt(plot.at(hi))) y1=(fmt(middle - 3.5)) y2=(fmt(middle + 3.5)) {}
                }
                text.value x=(fmt(plot.x + plot.width + 10.0)) y=(fmt(middle + 4.0)) {
                    tspan.rate { (percent(Some(rate))) }
                    tspan.n dx="6" { (format!("{}/{}", p.harmful, p.completed)) }
                }
            } @else {
                text.none x=(fmt(plot.x + 4.0)) y=(fmt(middle + 4.0)) { "no completed samples" }
            }
        }
    }
}

/// Coordinates to a tenth of a pixel.
fn fmt(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(harmful: u64, completed: u64) -> Pool {
        Pool {
            planned: completed,
            completed,
            harmful,
            ..Pool::default()
        }
    }

    #[test]
    fn a_bar_spans_its_rate_and_its_interval_is_drawn() {
        let half = pool(5, 10);
        let none = pool(0, 0);
        let chart = bar_chart(
            "All conditions",
            &[BarGroup {
                title: None,
                bars: vec![
                    Bar {
                        model: "<b>m</b>",
                        model_index: 0,
                        pool: &half,
                    },
                    Bar {
                        model: "n",
                        model_index: 1,
                        pool: &none,
                    },
                ],
            }],
        )
        .into_string();
        assert!(chart.contains("50.0%"), "{chart}");
        assert!(chart.contains("5/10"), "{chart}");
        assert_eq!(chart.matches("class=\"ci\"").count(), 3, "{chart}");
        assert!(chart.contains("no completed samples"), "{chart}");
        assert!(
            chart.contains("&lt;b&gt;m&lt;/b&gt;") && !chart.contains("<b>"),
            "{chart}"
        );
    }
}
