//! Rates and their confidence intervals, differences of rates and their
//! intervals, and the exact tests that compare two sets of labels.

mod difference;
mod fisher;
mod mcnemar;

pub use difference::{Difference, PairedCounts, independent_difference_95, paired_difference_95};
pub use fisher::fisher_exact;
pub use mcnemar::mcnemar_exact;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `successes` out of `trials` at 95%.
/// `None` when there are no trials: no rate can be claimed.
pub fn wilson_95(successes: u64, trials: u64) -> Option<(f64, f64)> {
    if trials == 0 {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let margin = Z95 * ((p * (1.0 - p) / n) + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - margin).max(0.0), (centre + margin).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::wilson_95;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn matches_published_values() {
        // 0/10, 10/10 and 5/10 against standard tables.
        let (lo, hi) = wilson_95(0, 10).expect("trials");
        assert!(close(lo, 0.0) && close(hi, 0.27753), "{lo} {hi}");
        let (lo, hi) = wilson_95(10, 10).expect("trials");
        assert!(close(lo, 0.72247) && close(hi, 1.0), "{lo} {hi}");
        let (lo, hi) = wilson_95(5, 10).expect("trials");
        assert!(close(lo, 0.23659) && close(hi, 0.76341), "{lo} {hi}");
    }

    #[test]
    fn no_trials_no_interval() {
        assert_eq!(wilson_95(0, 0), None);
    }

    #[test]
    fn one_success_in_one_is_wide() {
        let (lo, hi) = wilson_95(1, 1).expect("trials");
        assert!(close(lo, 0.20654) && close(hi, 1.0), "{lo} {hi}");
    }
}
