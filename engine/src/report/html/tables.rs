//! The report's tables: secondary classifiers' rates, every cell, and a
//! comparison with another run or label set.

use std::collections::BTreeSet;

use maud::{Markup, html};

use super::format::{interval, percent};
use crate::figures::Cell;
use crate::report::groups::Group;

/// Per model x scenario, each secondary classifier's rate (positive of
/// the samples it judged), its interval and its errors.
pub fn secondary_table(groups: &[Group]) -> Option<Markup> {
    let classifiers: BTreeSet<&str> = groups
        .iter()
        .flat_map(|g| g.secondary.iter().map(|s| s.classifier.as_str()))
        .collect();
    if classifiers.is_empty() {
        return None;
    }
    Some(html! {
        div.table-wrap {
            table.data {
                thead {
                    tr {
                        th scope="col" { "model" }
                        th scope="col" { "scenario" }
                        @for c in &classifiers { th scope="col" { (c) } }
                    }
                }
                tbody {
                    @for g in groups {
                        tr {
                            td { (g.model) }
                            td { (g.scenario) }
                            @for c in &classifiers {
                                td.num {
                                    @match g.secondary.iter().find(|s| s.classifier == *c) {
                                        None => span.muted { "not run" },
                                        Some(s) => {
                                            span.rate { (percent(s.rate())) }
                                            " " span.ci { (interval(s.interval())) }
                                            br;
                                            span.muted { (s.positive) "/" (s.judged()) " judged" }
                                            @if s.errors > 0 {
                                                " \u{b7} " span.errors { (s.errors) " errors" }
                                            }
                                        },
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

/// Every model x scenario x condition cell, as `summary.json` has it.
pub fn cells_table(cells: &[Cell]) -> Markup {
    let stops = cells.iter().any(|c| c.stopped() > 0);
    html! {
        div.table-wrap {
            table.data.cells {
                thead {
                    tr {
                        th scope="col" { "model" }
                        th scope="col" { "scenario" }
                        th scope="col" { "condition" }
                        th.num scope="col" { "n" }
                        th.num scope="col" { "harmful" }
                        th.num scope="col" { "completed" }
                        th.num scope="col" { "rate" }
                        th scope="col" { "95% CI" }
                        th.num scope="col" { "errors" }
                        @if stops {
                            th.num scope="col" { "refused" }
                            th.num scope="col" { "blocked" }
                            th.num scope="col" { "truncated" }
                        }
                        th.num scope="col" { "judged" }
                    }
                }
                tbody {
                    @for c in cells {
                        tr {
                            td { (c.model) }
                            td { (c.scenario) }
                            td.mono { (c.condition) }
                            td.num { (c.n) }
                            td.num { (c.harmful) }
                            td.num { (c.completed) }
                            td.num { (percent(c.rate)) }
                            td.ci { (interval(c.ci_low.zip(c.ci_high))) }
                            td.num.errors[c.errors > 0] { (c.errors) }
                            @if stops {
                                td.num { (c.refused) }
                                td.num { (c.blocked) }
                                td.num { (c.truncated) }
                            }
                            td.num { (c.judged) }
                        }
                    }
                }
            }
        }
    }
}

/// Two runs, or two label sets of one run, compared cell by cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What A and B are: run ids, or label sets (`classifier@version`).
    pub a: String,
    pub b: String,
    pub rows: Vec<ComparisonRow>,
}

/// One cell (or pooled group) of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub model: String,
    pub scenario: String,
    /// A condition id, or what was pooled (`all conditions`).
    pub condition: String,
    pub a: RateCount,
    pub b: RateCount,
    /// B's rate less A's.
    pub difference: Option<f64>,
    /// The difference's 95% interval.
    pub ci: Option<(f64, f64)>,
    pub p_value: Option<f64>,
    /// The test behind the p-value (a paired test where samples pair).
    pub test: Option<String>,
}

/// Harmful of completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCount {
    pub harmful: u64,
    pub completed: u64,
}

impl RateCount {
    fn rate(self) -> Option<f64> {
        (self.completed > 0).then(|| self.harmful as f64 / self.completed as f64)
    }
}

/// `+12.5 pp [3.1, 21.0]`.
fn points(difference: Option<f64>, ci: Option<(f64, f64)>) -> String {
    let Some(d) = difference else {
        return "\u{2013}".to_owned();
    };
    let mut text = format!("{:+.1} pp", d * 100.0);
    if let Some((lo, hi)) = ci {
        text.push_str(&format!(" [{:+.1}, {:+.1}]", lo * 100.0, hi * 100.0));
    }
    text
}

fn p_value(p: Option<f64>) -> String {
    match p {
        None => "\u{2013}".to_owned(),
        Some(p) if p < 0.001 => "<0.001".to_owned(),
        Some(p) => format!("{p:.3}"),
    }
}

pub fn comparison_table(comparison: &Comparison) -> Markup {
    html! {
        p.muted { "A: " strong { (comparison.a) } " \u{b7} B: " strong { (comparison.b) } ". Difference is B \u{2212} A in percentage points, with its 95% interval." }
        div.table-wrap {
            table.data.comparison {
                thead {
                    tr {
                        th scope="col" { "model" }
                        th scope="col" { "scenario" }
                        th scope="col" { "condition" }
                        th.num scope="col" { "A rate" }
                        th.num scope="col" { "B rate" }
                        th.num scope="col" { "difference" }
                        th.num scope="col" { "p" }
                        th scope="col" { "test" }
                    }
                }
                tbody {
                    @for r in &comparison.rows {
                        tr {
                            td { (r.model) }
                            td { (r.scenario) }
                            td.mono { (r.condition) }
                            td.num { (percent(r.a.rate())) br; span.muted { (r.a.harmful) "/" (r.a.completed) } }
                            td.num { (percent(r.b.rate())) br; span.muted { (r.b.harmful) "/" (r.b.completed) } }
                            td.num { (points(r.difference, r.ci)) }
                            td.num { (p_value(r.p_value)) }
                            td.muted { (r.test.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_shows_both_rates_the_difference_and_its_test() {
        let table = comparison_table(&Comparison {
            a: "run-a".into(),
            b: "run-b".into(),
            rows: vec![ComparisonRow {
                model: "m".into(),
                scenario: "s".into(),
                condition: "all conditions".into(),
                a: RateCount {
                    harmful: 1,
                    completed: 10,
                },
                b: RateCount {
                    harmful: 5,
                    completed: 10,
                },
                difference: Some(0.4),
                ci: Some((0.05, 0.7)),
                p_value: Some(0.0004),
                test: Some("McNemar, 10 pairs".into()),
            }],
        })
        .into_string();
        for expected in [
            "10.0%",
            "50.0%",
            "+40.0 pp [+5.0, +70.0]",
            "&lt;0.001",
            "McNemar, 10 pairs",
        ] {
            assert!(table.contains(expected), "{expected} in {table}");
        }
    }
}
