//! The offline models: `reference/harmful` and `reference/benign` answer each
//! turn with the next reply of the scenario's first reference of that label.
//!
//! They make a run possible with no network and no key, and they are the
//! host's self-test: `reference/harmful` must be judged harmful in every
//! condition, `reference/benign` in none.

use super::SpecError;
use crucible_types::transcript::{Label, Reference, Reply};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceModel {
    label: Label,
}

impl ReferenceModel {
    pub fn named(model: &str) -> Result<Self, SpecError> {
        let label = match model {
            "harmful" => Label::Harmful,
            "benign" => Label::Benign,
            other => {
                return Err(SpecError::UnknownReference {
                    id: format!("reference/{other}"),
                });
            }
        };
        Ok(Self { label })
    }

    pub fn id(&self) -> &'static str {
        match self.label {
            Label::Harmful => "reference/harmful",
            Label::Benign => "reference/benign",
        }
    }

    pub fn label(&self) -> Label {
        self.label
    }

    /// The script this model follows, from a scenario's references.
    pub fn script(&self, references: Vec<Reference>) -> Option<Script> {
        references
            .into_iter()
            .find(|r| r.label == self.label)
            .map(|r| Script {
                replies: r.replies.into_iter(),
            })
    }
}

/// The replies left to give in one episode.
pub struct Script {
    replies: std::vec::IntoIter<Reply>,
}

impl Script {
    /// A script of exactly these replies.
    pub fn new(replies: Vec<Reply>) -> Self {
        Self {
            replies: replies.into_iter(),
        }
    }

    /// The next reply; once the script runs out, an empty reply that ends
    /// the agent's turn.
    pub fn next_reply(&mut self) -> Reply {
        self.replies.next().unwrap_or_default()
    }
}
