//! The offline self-test's verdict. The scripted reference models answer
//! with each scenario's labelled references, so their figures are exact:
//! anything else is a bug in a plugin or in the host, and the verdict says
//! what was off.

use std::fmt::Write as _;

use super::groups::Pool;
use crate::figures::Cell;
use crate::transcript::Label;

/// The offline self-test's verdict, when the run has the scripted
/// reference models: `reference/harmful` must be judged harmful in every
/// sample, `reference/benign` in none, with no sample failed or stopped.
pub fn verdict(cells: &[Cell]) -> Option<String> {
    let mut checked: Vec<(&'static str, Label, Pool)> = Vec::new();
    for label in [Label::Harmful, Label::Benign] {
        let model = reference_id(label);
        let pool = Pool::of(cells.iter().filter(|c| c.model == model));
        if pool.planned > 0 {
            checked.push((model, label, pool));
        }
    }
    if checked.is_empty() {
        return None;
    }
    let pending: u64 = checked.iter().map(|(_, _, p)| p.pending()).sum();
    if pending > 0 {
        let planned: u64 = checked.iter().map(|(_, _, p)| p.planned).sum();
        return Some(format!(
            "Self-test not finished: {pending} of the reference models' {planned} samples are pending."
        ));
    }
    let passes = |label: Label, pool: &Pool| match label {
        Label::Harmful => pool.harmful == pool.planned,
        Label::Benign => pool.harmful == 0 && pool.completed == pool.planned,
    };
    if checked.iter().all(|(_, label, pool)| passes(*label, pool)) {
        let parts: Vec<String> = checked
            .iter()
            .enumerate()
            .map(|(i, (model, _, pool))| {
                let verb = if i == 0 { " judged harmful" } else { "" };
                format!(
                    "{model}{verb} in {} of {} samples",
                    pool.harmful, pool.planned
                )
            })
            .collect();
        return Some(format!("Self-test passed: {}.", parts.join(", ")));
    }
    let failures: Vec<String> = checked
        .iter()
        .filter(|(_, label, pool)| !passes(*label, pool))
        .map(|(model, label, pool)| {
            let mut text = format!(
                "{model} judged harmful in {} of {} samples",
                pool.harmful, pool.planned
            );
            match label {
                Label::Harmful => {
                    let _ = write!(text, ", expected {}", pool.planned);
                }
                Label::Benign if pool.harmful > 0 => text.push_str(", expected 0"),
                Label::Benign => {}
            }
            let not_harmful = match label {
                Label::Harmful => pool.completed - pool.harmful,
                Label::Benign => 0,
            };
            let details: Vec<String> = [
                (pool.errors, "failed"),
                (pool.stopped(), "refused, blocked or truncated"),
                (not_harmful, "judged not harmful"),
            ]
            .into_iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, what)| format!("{count} {what}"))
            .collect();
            if !details.is_empty() {
                let _ = write!(text, " ({})", details.join(", "));
            }
            text
        })
        .collect();
    Some(format!(
        "Self-test FAILED: {}. The reference models' figures are exact, so this is a bug in a \
         plugin or in the host: --cells shows which conditions.",
        failures.join("; ")
    ))
}

fn reference_id(label: Label) -> &'static str {
    match label {
        Label::Harmful => "reference/harmful",
        Label::Benign => "reference/benign",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::groups::tests::cell;

    #[test]
    fn the_self_test_passes_on_exact_figures_and_names_what_is_off() {
        let exact = [
            cell("reference/harmful", "s", "c1", 2, 2, 0),
            cell("reference/benign", "s", "c1", 0, 2, 0),
        ];
        assert_eq!(
            verdict(&exact).as_deref(),
            Some(
                "Self-test passed: reference/harmful judged harmful in 2 of 2 samples, \
                 reference/benign in 0 of 2 samples."
            )
        );
        let off = [
            cell("reference/harmful", "s", "c1", 1, 2, 1),
            cell("reference/benign", "s", "c1", 0, 2, 0),
        ];
        let said = verdict(&off).expect("a verdict");
        assert!(
            said.starts_with(
                "Self-test FAILED: reference/harmful judged harmful in 1 of 3 samples, \
                 expected 3 (1 failed, 1 judged not harmful)."
            ),
            "{said}"
        );
        assert!(!said.contains("reference/benign"), "{said}");
        let benign_failed = [cell("reference/benign", "s", "c1", 0, 1, 1)];
        let said = verdict(&benign_failed).expect("a verdict");
        assert!(
            said.starts_with(
                "Self-test FAILED: reference/benign judged harmful in 0 of 2 samples (1 failed)."
            ),
            "{said}"
        );
        assert_eq!(verdict(&[cell("m/x", "s", "c", 1, 1, 0)]), None);
    }
}
