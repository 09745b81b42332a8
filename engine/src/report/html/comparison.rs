//! A comparison (`crucible diff`) as the report's comparison section shows
//! it: every pooled row, then the cells (those that differ, or all).

use super::tables::{Comparison, ComparisonRow, RateCount};
use crate::compare::{self, Row, TestMethod};

impl Comparison {
    /// The section's rows from `comparison`: its pooled rows, then its
    /// cells, every one when `all`, else those that differ.
    pub fn of(comparison: &compare::Comparison, all: bool) -> Self {
        let side = |s: &compare::Side| {
            if s.labels == crate::results::ORIGINAL {
                format!("run {}", s.run_id)
            } else {
                format!("run {}, label set {}", s.run_id, s.labels)
            }
        };
        let rows = comparison
            .pooled
            .iter()
            .chain(comparison.cells.iter().filter(|r| all || r.differs))
            .map(row)
            .collect();
        Self {
            a: side(&comparison.a),
            b: side(&comparison.b),
            rows,
        }
    }
}

fn row(r: &Row) -> ComparisonRow {
    ComparisonRow {
        model: r.model.clone(),
        scenario: r.scenario.clone(),
        condition: r
            .condition
            .clone()
            .unwrap_or_else(|| "all conditions".to_owned()),
        a: RateCount {
            harmful: r.a.harmful,
            completed: r.a.completed,
        },
        b: RateCount {
            harmful: r.b.harmful,
            completed: r.b.completed,
        },
        difference: r.difference.as_ref().map(|d| d.estimate),
        ci: r.difference.as_ref().map(|d| (d.low, d.high)),
        p_value: r.test.as_ref().map(|t| t.p_value),
        test: r.test.as_ref().map(|t| {
            match t.method {
                TestMethod::McnemarExact => "McNemar exact (paired)",
                TestMethod::FisherExact => "Fisher exact",
            }
            .to_owned()
        }),
    }
}
