//! `--shard K/N`: one machine's deterministic share of a run's plan, so
//! that N machines (a Kubernetes Indexed Job, a Slurm array, N processes)
//! run one plan between them and `crucible merge` joins their stores.
//!
//! Shard K takes every Nth sample of the whole plan, starting from the Kth
//! (plan index `i` goes to shard `i mod N + 1`). The plan's order is fixed by
//! the suite, lock and flags alone, so every machine computes the same
//! shares; they are disjoint and cover the plan; and since the plan lists a
//! cell's samples together and the cells model by model, every shard gets
//! an equal part (within one sample) of every model and every condition.
//! Round robin rather than hashing keeps shards the same size, and lets a
//! merge lay the shards' rows back in plan order without the suite.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Shard `index` of `count`, counted from 1 (as `cargo nextest
/// --partition count:K/N` counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why a `--shard` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}` is not a shard: write K/N, shard K of N, counting from 1 (e.g. 1/4)")]
    Syntax(String),
    #[error("`{0}`: a run cannot be split into 0 shards; N must be at least 1")]
    NoShards(String),
    #[error(
        "`{0}`: shards count from 1, so K is 1 to N; Kubernetes' JOB_COMPLETION_INDEX and other 0-based indexes need 1 added: --shard $((JOB_COMPLETION_INDEX + 1))/N"
    )]
    Zero(String),
    #[error("`{text}`: there is no shard {index} of {count}; K is 1 to {count}")]
    PastTheEnd {
        text: String,
        index: u32,
        count: u32,
    },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(syntax)?;
        let number = |part: &str| -> Result<u32, ShardError> {
            // Digits only: no sign, space or `+` that `u32::from_str` would take.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            part.parse().map_err(|_| syntax())
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 {
            return Err(ShardError::NoShards(text.to_owned()));
        }
        if index == 0 {
            return Err(ShardError::Zero(text.to_owned()));
        }
        if index > count {
            return Err(ShardError::PastTheEnd {
                text: text.to_owned(),
                index,
                count,
            });
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the sample at `plan_index` (0-based, in the whole plan) is
    /// this shard's.
    pub fn takes(&self, plan_index: u64) -> bool {
        plan_index % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// How many of the plan indexes `start..start + len` are this shard's.
    pub fn share_of(&self, start: u64, len: u64) -> u64 {
        // Indexes below `end` that are this shard's: those `i` with
        // `i mod N = K - 1`, i.e. `ceil((end - (K - 1)) / N)`.
        let below = |end: u64| {
            let first = u64::from(self.index - 1);
            if end <= first {
                0
            } else {
                (end - first).div_ceil(u64::from(self.count))
            }
        };
        below(start.saturating_add(len)) - below(start)
    }

    /// The 0-based position in the whole plan of this shard's `nth` sample.
    pub fn plan_index(&self, nth: u64) -> u64 {
        nth * u64::from(self.count) + u64::from(self.index - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_everything_else_by_name() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard { index: 1, count: 1 }));
        assert!(matches!("0/3".parse::<Shard>(), Err(ShardError::Zero(_))));
        assert!(matches!(
            "4/3".parse::<Shard>(),
            Err(ShardError::PastTheEnd { .. })
        ));
        assert!(matches!(
            "1/0".parse::<Shard>(),
            Err(ShardError::NoShards(_))
        ));
        for junk in [
            "",
            "3",
            "/3",
            "1/",
            "a/3",
            "1/b",
            "+1/3",
            "-1/3",
            " 1/3",
            "1/3/4",
            "99999999999/3",
        ] {
            assert!(
                matches!(junk.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{junk:?}"
            );
        }
        assert!(
            ShardError::Zero("0/3".into())
                .to_string()
                .contains("JOB_COMPLETION_INDEX + 1")
        );
    }

    #[test]
    fn shares_are_disjoint_cover_the_plan_and_are_balanced() {
        for count in 1..=7u32 {
            let shards: Vec<Shard> = (1..=count).map(|index| Shard { index, count }).collect();
            for plan_index in 0..100u64 {
                let owners = shards.iter().filter(|s| s.takes(plan_index)).count();
                assert_eq!(owners, 1, "index {plan_index} of {count} shards");
            }
            for (start, len) in [(0, 0), (0, 1), (0, 100), (5, 13), (17, 40)] {
                let shares: Vec<u64> = shards.iter().map(|s| s.share_of(start, len)).collect();
                assert_eq!(shares.iter().sum::<u64>(), len);
                let (min, max) = (shares.iter().min(), shares.iter().max());
                assert!(max.zip(min).is_some_and(|(max, min)| max - min <= 1));
                for shard in &shards {
                    let counted = (start..start + len).filter(|&i| shard.takes(i)).count() as u64;
                    assert_eq!(shard.share_of(start, len), counted);
                }
            }
            for shard in &shards {
                for nth in 0..10 {
                    assert!(shard.takes(shard.plan_index(nth)));
                }
            }
        }
    }
}
