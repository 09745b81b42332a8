//! The two kinds of plugin: a scenario runs an episode, a classifier
//! judges its transcript.

use std::fmt;

/// What a plugin is, by the interface it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Scenario,
    Classifier,
}

impl PluginKind {
    /// The contract's interface a plugin of this kind exports.
    pub fn interface(self) -> &'static str {
        match self {
            PluginKind::Scenario => "scenario",
            PluginKind::Classifier => "classifier",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}
