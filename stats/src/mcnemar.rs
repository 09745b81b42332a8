//! The exact McNemar test for paired samples: under the null hypothesis
//! that A and B label alike, each discordant pair is as likely to go one
//! way as the other, so the count one way is Binomial(discordant, 1/2).
//! The two-sided p is twice the smaller tail, at most 1 (the convention of
//! R's `binom.test` for p = 1/2, where the distribution is symmetric).

/// Two-sided exact p for `a_only` pairs positive under A alone against
/// `b_only` positive under B alone. 1 when no pair disagrees.
pub fn mcnemar_exact(a_only: u64, b_only: u64) -> f64 {
    let n = a_only + b_only;
    let k = a_only.min(b_only);
    (2.0 * binomial_half_lower_tail(k, n)).min(1.0)
}

/// P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so that large n
/// neither underflows nor loses its small terms.
fn binomial_half_lower_tail(k: u64, n: u64) -> f64 {
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_choose = 0.0_f64;
    let mut total = f64::NEG_INFINITY;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total = log_add(total, ln_choose + ln_half_n);
    }
    total.exp()
}

/// ln(e^x + e^y).
pub(super) fn log_add(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    let (high, low) = if x > y { (x, y) } else { (y, x) };
    high + (low - high).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::mcnemar_exact;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Small tables by hand: with d discordant pairs, P(X <= k) is the sum
    /// of C(d, i) for i up to k, over 2^d.
    #[test]
    fn small_tables_by_hand() {
        // 0 of 5 one way: 2 * 1/32.
        assert!(close(mcnemar_exact(0, 5), 2.0 / 32.0));
        assert!(close(mcnemar_exact(5, 0), 2.0 / 32.0));
        // 1 of 5: 2 * (1 + 5)/32.
        assert!(close(mcnemar_exact(1, 4), 12.0 / 32.0));
        // 2 of 10: 2 * (1 + 10 + 45)/1024.
        assert!(close(mcnemar_exact(2, 8), 112.0 / 1024.0));
        // Even splits and no disagreement: nothing to see.
        assert!(close(mcnemar_exact(3, 3), 1.0));
        assert!(close(mcnemar_exact(0, 0), 1.0));
        // One pair either way can never be significant.
        assert!(close(mcnemar_exact(0, 1), 1.0));
    }

    /// Cavo et al. (2012), in Fagerland, Lydersen and Laake (2017), ch. 8:
    /// 6 against 16 discordant pairs, exact conditional P = 0.0525.
    #[test]
    fn matches_a_textbook_example() {
        let p = mcnemar_exact(6, 16);
        assert!(close(p, 2.0 * 110_056.0 / 4_194_304.0), "{p}");
        assert!((p - 0.0525).abs() < 5e-5, "{p}");
    }

    #[test]
    fn large_tables_neither_underflow_nor_exceed_one() {
        let p = mcnemar_exact(500, 700);
        assert!(p > 0.0 && p < 1e-6, "{p}");
        assert!(close(mcnemar_exact(5000, 5000), 1.0));
    }
}
