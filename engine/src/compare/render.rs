//! A comparison as a person reads it in a terminal: what each side is,
//! every model x scenario pooled, the cells that differ (or all of them),
//! and what was not compared.

use std::fmt::Write as _;

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};

use super::{Arm, Comparison, Pairing, Row, Side, TestMethod};

/// The comparison as text; every cell when `all`, else the cells that
/// differ.
pub fn render(comparison: &Comparison, all: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "A: {}", describe(&comparison.a));
    let _ = writeln!(out, "B: {}", describe(&comparison.b));
    for note in &comparison.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let compared = comparison.cells.len();
    if compared == 0 {
        let _ = writeln!(out, "\nThe two sides have no cell in common.");
    } else {
        let _ = writeln!(
            out,
            "\nPer model x scenario, pooled over the conditions both sides have (B − A in percentage points, 95% interval):"
        );
        out.push_str(&table(&comparison.pooled, false));
        let differing: Vec<&Row> = comparison.cells.iter().filter(|r| r.differs).collect();
        if all {
            let _ = writeln!(out, "\nEvery cell ({compared}):");
            out.push_str(&table(comparison.cells.iter(), true));
        } else if differing.is_empty() {
            let _ = writeln!(out, "\nNo cell differs ({compared} compared).");
        } else {
            let _ = writeln!(
                out,
                "\nCells that differ: {} of {compared} (--all shows every cell):",
                differing.len()
            );
            out.push_str(&table(differing, true));
        }
    }
    let (a_only, b_only) = (comparison.only_in_a.len(), comparison.only_in_b.len());
    if a_only + b_only > 0 {
        let _ = writeln!(
            out,
            "\nNot compared: {a_only} cell(s) only in A, {b_only} only in B."
        );
    }
    let _ = writeln!(
        out,
        "Samples pair when model, scenario, condition, sample index and seed match. Paired \
         rows: Newcombe's paired interval and the exact McNemar test. Unpaired rows: Newcombe's \
         interval for independent samples and Fisher's exact test. Rows where some pairs are \
         counted on one side only (\"N of M pairs\"): the independent interval, and McNemar \
         on the N pairs counted on both sides."
    );
    out
}

fn describe(side: &Side) -> String {
    let mut text = format!("run {}, labels `{}`", side.run_id, side.labels);
    match (&side.classifier, side.labels.as_str()) {
        (None, _) => text.push_str(" (each scenario's primary classifier)"),
        (Some(c), super::ORIGINAL) => {
            let _ = write!(text, " read by {c}");
        }
        (Some(c), _) => {
            let _ = write!(text, " by {c}");
        }
    }
    match &side.judge {
        Some(judge) => {
            let _ = write!(text, ", judge {judge}");
        }
        None => text.push_str(", no judge model"),
    }
    text
}

/// Rows as a table, with a condition column when they are `cells`.
pub fn table<'a>(rows: impl IntoIterator<Item = &'a Row>, cells: bool) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec!["model", "scenario"];
    if cells {
        header.push("condition");
    }
    header.extend(["A", "B", "B − A", "pairs", "test"]);
    table.set_header(header);
    for row in rows {
        let mut line = vec![Cell::new(&row.model), Cell::new(&row.scenario)];
        if cells {
            line.push(Cell::new(row.condition.as_deref().unwrap_or_default()));
        }
        line.extend([
            Cell::new(arm(&row.a)).set_alignment(CellAlignment::Right),
            Cell::new(arm(&row.b)).set_alignment(CellAlignment::Right),
            Cell::new(difference(row)).set_alignment(CellAlignment::Right),
            Cell::new(pairs(row)),
            Cell::new(test(row)),
        ]);
        table.add_row(line);
    }
    format!("{table}\n")
}

/// `12/20 60.0%`, with what is outside the rate after it.
fn arm(arm: &Arm) -> String {
    let mut text = match arm.rate {
        Some(rate) => format!("{}/{} {:.1}%", arm.harmful, arm.completed, rate * 100.0),
        None => format!("{}/{} -", arm.harmful, arm.completed),
    };
    if arm.errors > 0 {
        let _ = write!(text, " +{} err", arm.errors);
    }
    if arm.stopped > 0 {
        let _ = write!(text, " +{} stopped", arm.stopped);
    }
    text
}

fn difference(row: &Row) -> String {
    match row.difference {
        None => "-".to_owned(),
        Some(d) => format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            d.estimate * 100.0,
            d.low * 100.0,
            d.high * 100.0
        ),
    }
}

fn pairs(row: &Row) -> String {
    let complete = row.pairs.pairs();
    let disagree = row.pairs.discordant();
    match row.pairing {
        Pairing::Paired => format!("{complete} pairs, {disagree} differ"),
        Pairing::Partial => format!(
            "{complete} of {} pairs, {disagree} differ",
            row.paired_samples
        ),
        Pairing::Unpaired => "unpaired".to_owned(),
    }
}

fn test(row: &Row) -> String {
    let Some(test) = &row.test else {
        return "-".to_owned();
    };
    let name = match test.method {
        TestMethod::McnemarExact => "McNemar",
        TestMethod::FisherExact => "Fisher",
    };
    format!("{name} {}", p_value(test.p_value))
}

/// `p=0.031`, `p<0.0001`.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "p<0.0001".to_owned()
    } else if p < 0.01 {
        format!("p={p:.4}")
    } else {
        format!("p={p:.3}")
    }
}
