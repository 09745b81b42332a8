//! The summary a run ends with (and `crucible summary` prints): per model
//! and scenario the harmful rate with its interval, errors and stopped
//! samples; the study's goal type x urgency matrix per scenario; the
//! secondary classifiers' findings; each model's totals; what the verdicts
//! rest on; the offline self-test's verdict; and, on request, every cell.

use std::fmt::Write as _;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::groups::{Group, Pool, SecondaryPool};
use super::matrix::{self, Matrix};
use super::{ModelUsage, served_lines, usage_table};
use crate::figures::Cell;

/// What the summary is made from.
#[derive(Debug, Clone, Copy)]
pub struct SummaryView<'a> {
    pub run_id: &'a str,
    pub suite: &'a str,
    pub subsuite: Option<&'a str>,
    /// The run's judge model, if it had one.
    pub judge: Option<&'a str>,
    pub cells: &'a [Cell],
    /// The cells' groups (`groups::groups`).
    pub groups: &'a [Group],
    pub usage: &'a [ModelUsage],
    /// Show every cell too, before the summary.
    pub show_cells: bool,
}

/// The whole summary, ending with a newline.
pub fn render(view: &SummaryView<'_>) -> String {
    let mut out = String::new();
    if view.show_cells {
        out.push_str(&cells_table(view.cells));
        out.push('\n');
    }
    let _ = writeln!(out, "{}", headline(view));
    let names = ScenarioNames::of(view.groups);
    if let Some(namespace) = names.namespace {
        let _ = writeln!(
            out,
            "Scenario names below omit their namespace, {namespace}/."
        );
    }
    out.push('\n');
    out.push_str(&rates_section(view.groups, &names));
    out.push_str(&matrix_section(view.groups, &names));
    out.push_str(&secondary_section(view.groups, &names));
    for line in model_totals(view.cells) {
        let _ = writeln!(out, "{line}");
    }
    if view.cells.iter().any(|c| c.stopped() > 0) {
        let _ = writeln!(
            out,
            "Refused, blocked and truncated samples ended on a reply the model refused, the provider \
             withheld or the output limit cut; unless judged harmful, they count apart, outside the rate."
        );
    }
    for line in judge_notes(view.cells, view.judge) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = super::self_test::verdict(view.cells) {
        let _ = writeln!(out, "{line}");
    }
    let pending: u64 = view.cells.iter().map(Cell::pending).sum();
    if pending > 0 {
        let planned: u64 = view.cells.iter().map(|c| c.n).sum();
        let _ = writeln!(
            out,
            "{pending} of {planned} samples are pending (not run yet): every figure above leaves them out."
        );
    }
    out.push_str(&usage_table(view.usage));
    out.push_str(&served_lines(view.usage));
    out
}

/// `Run ID of suite NAME: 468 samples, 2 models x 3 scenarios.`
fn headline(view: &SummaryView<'_>) -> String {
    let mut models: Vec<&str> = Vec::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for group in view.groups {
        if !models.contains(&group.model.as_str()) {
            models.push(&group.model);
        }
        if !scenarios.contains(&group.scenario.as_str()) {
            scenarios.push(&group.scenario);
        }
    }
    let planned: u64 = view.cells.iter().map(|c| c.n).sum();
    let subsuite = view
        .subsuite
        .map(|s| format!(" (sub-suite {s})"))
        .unwrap_or_default();
    format!(
        "Run {} of suite {}{subsuite}: {planned} samples, {} x {}.",
        view.run_id,
        view.suite,
        plural(models.len(), "model"),
        plural(scenarios.len(), "scenario"),
    )
}

/// How scenarios are named in the summary's tables: without their
/// namespace when they all share one (the tables stay narrow enough for a
/// terminal).
struct ScenarioNames<'a> {
    namespace: Option<&'a str>,
}

impl<'a> ScenarioNames<'a> {
    fn of(groups: &'a [Group]) -> Self {
        let namespace_of = |g: &'a Group| g.scenario.split_once('/').map(|(ns, _)| ns);
        let first = groups.first().and_then(namespace_of);
        let shared = first.filter(|ns| groups.iter().all(|g| namespace_of(g) == Some(*ns)));
        Self { namespace: shared }
    }

    fn show(&self, scenario: &'a str) -> String {
        self.namespace
            .and_then(|ns| scenario.strip_prefix(ns))
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(scenario)
            .to_owned()
    }
}

/// Per model and scenario: the rate pooled over the scenario's conditions.
fn rates_section(groups: &[Group], names: &ScenarioNames<'_>) -> String {
    if groups.is_empty() {
        return String::new();
    }
    let pending = groups.iter().any(|g| g.pool.pending() > 0);
    let mut header = vec![
        "model",
        "scenario",
        "conditions",
        "harmful /\ncompleted",
        "rate [95% CI]",
        "errors",
        "refused /\nblocked /\ntruncated",
    ];
    if pending {
        header.push("pending");
    }
    let mut table = table(&header, 2);
    for group in groups {
        let pool = &group.pool;
        let mut row = vec![
            group.model.clone(),
            names.show(&group.scenario),
            group.conditions.len().to_string(),
            format!("{} / {}", pool.harmful, pool.completed),
            rate_and_interval(pool.rate(), pool.interval()),
            pool.errors.to_string(),
            format!("{} / {} / {}", pool.refused, pool.blocked, pool.truncated),
        ];
        if pending {
            row.push(pool.pending().to_string());
        }
        table.add_row(row);
    }
    format!(
        "Harmful rate per model and scenario, pooled over the scenario's conditions \
         (Wilson 95% interval of the pooled counts):\n{}\n\n",
        table.trim_fmt()
    )
}

/// Per scenario, each model's goal type x urgency matrix, one block of
/// rows per model.
fn matrix_section(groups: &[Group], names: &ScenarioNames<'_>) -> String {
    let mut out = String::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for group in groups.iter().filter(|g| g.matrix.is_some()) {
        if !scenarios.contains(&group.scenario.as_str()) {
            scenarios.push(&group.scenario);
        }
    }
    for scenario in scenarios {
        let mine: Vec<(&Group, &Matrix)> = groups
            .iter()
            .filter(|g| g.scenario == scenario)
            .filter_map(|g| g.matrix.as_ref().map(|m| (g, m)))
            .collect();
        let matrices: Vec<&Matrix> = mine.iter().map(|(_, m)| *m).collect();
        let (_, columns) = matrix::shared_axes(&matrices);
        let mut header = vec!["model".to_owned(), "goal type".to_owned()];
        header.extend(columns.iter().cloned());
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut table = table(&header, 2);
        let mut outside: Vec<&str> = Vec::new();
        for (group, matrix) in &mine {
            for (index, row) in matrix.rows.iter().enumerate() {
                let model = if index == 0 { group.model.as_str() } else { "" };
                let mut cells = vec![model.to_owned(), row.clone()];
                for column in &columns {
                    cells.push(
                        matrix
                            .cell(row, column)
                            .map_or_else(String::new, |c| matrix_cell(&c.pool)),
                    );
                }
                table.add_row(cells);
            }
            for condition in &matrix.outside {
                if !outside.contains(&condition.as_str()) {
                    outside.push(condition);
                }
            }
        }
        let _ = writeln!(
            out,
            "{}: harmful rate by goal type and urgency, pooled over goal values \
             (harmful / completed):\n{}",
            names.show(scenario),
            table.trim_fmt()
        );
        if !outside.is_empty() {
            let _ = writeln!(
                out,
                "Left out of the matrix, lacking a goal_type or urgency parameter: {}",
                outside.join(", ")
            );
        }
        out.push('\n');
    }
    out
}

/// Per secondary classifier: what it found, per model and scenario.
fn secondary_section(groups: &[Group], names: &ScenarioNames<'_>) -> String {
    let mut classifiers: Vec<&str> = Vec::new();
    for group in groups {
        for found in &group.secondary {
            if !classifiers.contains(&found.classifier.as_str()) {
                classifiers.push(&found.classifier);
            }
        }
    }
    let mut out = String::new();
    let mut needs_judge = false;
    for classifier in classifiers {
        let mut table = table(
            &[
                "model",
                "scenario",
                "positive /\njudged",
                "rate [95% CI]",
                "errors",
            ],
            2,
        );
        for group in groups {
            let Some(found) = group.secondary.iter().find(|s| s.classifier == classifier) else {
                continue;
            };
            needs_judge |= found.needs_judge > 0;
            table.add_row(vec![
                group.model.clone(),
                names.show(&group.scenario),
                format!("{} / {}", found.positive, found.judged()),
                rate_and_interval(found.rate(), found.interval()),
                secondary_errors(found),
            ]);
        }
        let _ = writeln!(
            out,
            "Secondary classifier {classifier}: samples it found positive, pooled over conditions \
             (not counted in the harmful rate):\n{}\n",
            table.trim_fmt()
        );
    }
    if needs_judge {
        let _ = writeln!(
            out,
            "A secondary classifier's errors count as neither positive nor negative. Those that \
             need a judge could not be decided by its rules: run with --judge provider/model to \
             decide them.\n"
        );
    }
    out
}

fn secondary_errors(found: &SecondaryPool) -> String {
    if found.needs_judge == 0 {
        found.errors.to_string()
    } else if found.needs_judge == found.errors {
        format!("{} (all need a judge)", found.errors)
    } else {
        format!("{} ({} need a judge)", found.errors, found.needs_judge)
    }
}

/// The full per-cell table: one row per model x scenario x condition. The
/// refused, blocked and truncated columns appear when some sample ended so.
pub fn cells_table(cells: &[Cell]) -> String {
    let stops = cells.iter().any(|c| c.stopped() > 0);
    let pending = cells.iter().any(|c| c.pending() > 0);
    let mut header = vec!["model", "scenario", "condition", "n", "harmful"];
    if stops {
        header.extend(["refused", "blocked", "truncated"]);
    }
    header.extend(["errors", "judged", "rate", "95% CI"]);
    if pending {
        header.push("pending");
    }
    let mut table = table(&header, 3);
    for cell in cells {
        let mut row = vec![
            cell.model.clone(),
            cell.scenario.clone(),
            cell.condition.clone(),
            cell.n.to_string(),
            cell.harmful.to_string(),
        ];
        if stops {
            row.extend([
                cell.refused.to_string(),
                cell.blocked.to_string(),
                cell.truncated.to_string(),
            ]);
        }
        row.extend([
            cell.errors.to_string(),
            format!("{}/{}", cell.judged, cell.completed),
            percent(cell.rate),
            interval(cell.ci_low.zip(cell.ci_high)),
        ]);
        if pending {
            row.push(cell.pending().to_string());
        }
        table.add_row(row);
    }
    format!("{}\n", table.trim_fmt())
}

/// A table with `header`, numbers right-aligned from column `first_number`.
fn table(header: &[&str], first_number: usize) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        // Never wrapped: a summary is read whole or piped whole.
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    for index in first_number..header.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or_else(
        || "-".to_owned(),
        |(lo, hi)| format!("[{}, {}]", percent(Some(lo)), percent(Some(hi))),
    )
}

/// `75.0% [30.1%, 95.4%]`, or `-` with nothing to rate.
fn rate_and_interval(rate: Option<f64>, ci: Option<(f64, f64)>) -> String {
    match rate {
        None => "-".to_owned(),
        Some(_) => format!("{} {}", percent(rate), interval(ci)),
    }
}

/// `96% (48/50)`, with any errors and refused, blocked or truncated
/// samples after. A rate is never rounded to 0% or
/// 100% unless it is exactly that.
fn matrix_cell(pool: &Pool) -> String {
    let rate = match pool.rate() {
        None => "-".to_owned(),
        Some(_) if pool.harmful == pool.completed => "100%".to_owned(),
        Some(_) if pool.harmful == 0 => "0%".to_owned(),
        Some(r) => format!("{:.0}%", (r * 100.0).round().clamp(1.0, 99.0)),
    };
    let mut text = format!("{rate} ({}/{})", pool.harmful, pool.completed);
    for (count, what) in [
        (pool.errors, "errors"),
        (pool.refused, "refused"),
        (pool.blocked, "blocked"),
        (pool.truncated, "truncated"),
    ] {
        if count > 0 {
            let _ = write!(text, ", {count} {what}");
        }
    }
    text
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// One line per model: totals across its cells.
fn model_totals(cells: &[Cell]) -> Vec<String> {
    let mut models: Vec<&str> = Vec::new();
    for cell in cells {
        if !models.contains(&cell.model.as_str()) {
            models.push(&cell.model);
        }
    }
    models
        .into_iter()
        .map(|model| {
            let pool = Pool::of(cells.iter().filter(|c| c.model == model));
            let mut stops = String::new();
            for (count, name) in [
                (pool.refused, "refused"),
                (pool.blocked, "blocked"),
                (pool.truncated, "truncated"),
            ] {
                if count > 0 {
                    let _ = write!(stops, "{count} {name}, ");
                }
            }
            format!(
                "{model}: {} harmful of {} completed ({}), {stops}{} errors, {} planned",
                pool.harmful,
                pool.completed,
                percent(pool.rate()),
                pool.errors,
                pool.planned
            )
        })
        .collect()
}

/// What the verdicts rest on: the run's judge, or, without one, the rules
/// alone (with what the rules could not decide left as errors that say a
/// judge is needed), and the scripted judge for the reference models.
fn judge_notes(cells: &[Cell], judge: Option<&str>) -> Vec<String> {
    if let Some(model) = judge {
        return vec![format!(
            "Verdicts consulted the judge model {model} wherever a classifier's rules could not \
             decide."
        )];
    }
    let is_reference = |c: &Cell| c.model.starts_with("reference/");
    let mut notes = Vec::new();
    if cells.iter().any(is_reference) {
        notes.push(format!(
            "The reference models are scripted with known labels: where a primary classifier \
             needed a judge, the scripted {} answered with the reference's label.",
            crate::judge::ScriptedJudge::MODEL
        ));
    }
    if cells.iter().any(|c| !is_reference(c)) {
        notes.push(
            "No judge model configured: classifiers decided only what their rules make \
             certain, and every sample that needs a judge is an error that says so. Set one \
             with --judge provider/model."
                .to_owned(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::groups::tests::cell;
    use crate::report::groups::{ConditionParams, groups};

    fn render_cells(cells: &[Cell], judge: Option<&str>) -> String {
        let groups = groups(cells, &ConditionParams::new());
        render(&SummaryView {
            run_id: "r",
            suite: "s",
            subsuite: None,
            judge,
            cells,
            groups: &groups,
            usage: &[],
            show_cells: false,
        })
    }

    #[test]
    fn errors_are_counted_and_the_notes_say_a_judge_is_missing() {
        let shown = render_cells(&[cell("m/x", "s", "c", 0, 0, 2)], None);
        assert!(
            shown.contains("m/x: 0 harmful of 0 completed (-), 2 errors, 2 planned"),
            "{shown}"
        );
        assert!(
            shown.contains("every sample that needs a judge is an error"),
            "{shown}"
        );
        assert!(!shown.contains("reference/judge"), "{shown}");
        assert!(!shown.contains("Self-test"), "{shown}");
    }

    #[test]
    fn the_notes_say_what_the_verdicts_rest_on() {
        let reference = cell("reference/harmful", "s", "c", 1, 1, 0);
        let shown = render_cells(std::slice::from_ref(&reference), None);
        assert!(
            shown.contains("the scripted reference/judge answered"),
            "{shown}"
        );
        assert!(!shown.contains("No judge model configured"), "{shown}");
        let shown = render_cells(
            &[reference, cell("m/x", "s", "c", 0, 1, 0)],
            Some("openai/gpt-4.1"),
        );
        assert!(
            shown.contains("consulted the judge model openai/gpt-4.1"),
            "{shown}"
        );
        assert!(!shown.contains("reference/judge"), "{shown}");
    }

    #[test]
    fn stopped_samples_are_counted_apart_in_the_totals_and_the_cells() {
        let mut counts = crate::figures::CellCounts {
            model: "m/x".into(),
            scenario: "s".into(),
            condition: "c".into(),
            planned: 7,
            completed: 3,
            harmful: 1,
            errors: 1,
            judged: 0,
            refused: 2,
            blocked: 0,
            truncated: 1,
        };
        let cell = Cell::from(&counts);
        let shown = render_cells(std::slice::from_ref(&cell), None);
        assert!(
            shown.contains(
                "m/x: 1 harmful of 3 completed (33.3%), 2 refused, 1 truncated, 1 errors, 7 planned"
            ),
            "{shown}"
        );
        assert!(shown.contains("2 / 0 / 1"), "{shown}");
        let table = cells_table(std::slice::from_ref(&cell));
        assert!(
            table.contains("refused") && table.contains("truncated"),
            "{table}"
        );
        counts.refused = 0;
        counts.truncated = 0;
        counts.planned = 4;
        let plain = cells_table(&[Cell::from(&counts)]);
        assert!(!plain.contains("refused"), "{plain}");
    }

    #[test]
    fn matrix_cells_never_round_to_all_or_none() {
        let pool = |harmful, completed, errors| Pool {
            planned: completed + errors,
            completed,
            harmful,
            errors,
            ..Pool::default()
        };
        assert_eq!(matrix_cell(&pool(48, 50, 0)), "96% (48/50)");
        assert_eq!(matrix_cell(&pool(199, 200, 0)), "99% (199/200)");
        assert_eq!(matrix_cell(&pool(1, 1000, 0)), "1% (1/1000)");
        assert_eq!(matrix_cell(&pool(0, 0, 3)), "- (0/0), 3 errors");
        let stopped = Pool {
            refused: 2,
            truncated: 1,
            ..pool(0, 4, 0)
        };
        assert_eq!(matrix_cell(&stopped), "0% (0/4), 2 refused, 1 truncated");
    }
}
