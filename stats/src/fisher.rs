//! Fisher's exact test of two independent proportions: given both margins,
//! the count of positives on A's side is hypergeometric under the null
//! hypothesis of equal rates. The two-sided p sums every table no more
//! likely than the one observed (the convention of R's `fisher.test`, with
//! its relative tolerance for ties in floating point).

use super::mcnemar::log_add;

/// Tables whose probability is within this factor of the observed one's
/// count as equally likely.
const TIE_TOLERANCE: f64 = 1e-7;

/// Two-sided exact p for `a_positive` of `a_trials` against `b_positive`
/// of `b_trials`. 1 when either side has no trials.
pub fn fisher_exact(a_positive: u64, a_trials: u64, b_positive: u64, b_trials: u64) -> f64 {
    if a_trials == 0 || b_trials == 0 {
        return 1.0;
    }
    let total = a_trials + b_trials;
    let positives = a_positive + b_positive;
    let ln_factorials = ln_factorials(total);
    let ln_choose = |n: u64, k: u64| {
        ln_factorials[n as usize] - ln_factorials[k as usize] - ln_factorials[(n - k) as usize]
    };
    // P(X = x): x positives among A's trials, the rest among B's.
    let ln_p = |x: u64| {
        ln_choose(a_trials, x) + ln_choose(b_trials, positives - x) - ln_choose(total, positives)
    };
    let low = positives.saturating_sub(b_trials);
    let high = positives.min(a_trials);
    let observed = ln_p(a_positive);
    let threshold = observed + TIE_TOLERANCE.ln_1p();
    let mut sum = f64::NEG_INFINITY;
    for x in low..=high {
        let p = ln_p(x);
        if p <= threshold {
            sum = log_add(sum, p);
        }
    }
    sum.exp().min(1.0)
}

/// ln(k!) for k = 0..=n.
fn ln_factorials(n: u64) -> Vec<f64> {
    let mut table = Vec::with_capacity(n as usize + 1);
    let mut running = 0.0_f64;
    table.push(running);
    for k in 1..=n {
        running += (k as f64).ln();
        table.push(running);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::fisher_exact;

    /// Fagerland, Lydersen and Laake (2017), ch. 4: 0 of 16 against 15 of
    /// 72 (Ritland et al., 2007), P = 0.06287.
    #[test]
    fn matches_a_textbook_example() {
        let p = fisher_exact(0, 16, 15, 72);
        assert!((p - 0.06287).abs() < 5e-6, "{p}");
    }

    /// The lady tasting tea: 3 of 4 against 1 of 4, two-sided
    /// P = (1 + 16 + 16 + 1)/70 = 34/70.
    #[test]
    fn the_lady_tasting_tea() {
        let p = fisher_exact(3, 4, 1, 4);
        assert!((p - 34.0 / 70.0).abs() < 1e-9, "{p}");
    }

    #[test]
    fn equal_or_empty_sides_give_one() {
        assert!((fisher_exact(5, 10, 5, 10) - 1.0).abs() < 1e-9);
        assert!((fisher_exact(0, 10, 0, 10) - 1.0).abs() < 1e-9);
        assert_eq!(fisher_exact(0, 0, 3, 5), 1.0);
    }

    #[test]
    fn all_against_none() {
        // 10 of 10 against 0 of 10: two tables as extreme, each 1/C(20,10).
        let p = fisher_exact(10, 10, 0, 10);
        assert!((p - 2.0 / 184_756.0).abs() < 1e-12, "{p}");
    }
}
