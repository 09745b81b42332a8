//! The run's models, each named once (on the command line or in the suite)
//! and parsed and checked once here: everything after reads these specs.

use super::{RunConfig, RunError};
use crate::model::ModelSpec;
use crate::suite::LoadedSuite;

/// The agents in the run's order, and the judge if there is one, each
/// with its suite entry's settings laid under the ones its name carries.
pub struct RunModels {
    pub agents: Vec<ModelSpec>,
    pub judge: Option<ModelSpec>,
    /// The agents' `provider/model` ids, in order, as results name them.
    agent_ids: Vec<String>,
}

impl RunModels {
    /// Refuses a spec that does not parse or validate, and an agent named
    /// twice (however its settings are written).
    pub fn resolve(suite: &LoadedSuite, config: &RunConfig) -> Result<Self, RunError> {
        let mut agents: Vec<ModelSpec> = Vec::with_capacity(config.models.len());
        for named in &config.models {
            let spec = suite.model_spec(named)?;
            if agents.iter().any(|agent| agent.id == spec.id) {
                return Err(RunError::DuplicateModel(spec.id));
            }
            agents.push(spec);
        }
        let judge = match &config.judge {
            Some(named) => Some(suite.model_spec(named)?),
            None => None,
        };
        let agent_ids = agents.iter().map(|spec| spec.id.clone()).collect();
        Ok(Self {
            agents,
            judge,
            agent_ids,
        })
    }

    /// The agents, then the judge.
    pub fn all(&self) -> impl Iterator<Item = &ModelSpec> {
        self.agents.iter().chain(&self.judge)
    }

    /// The agents' `provider/model` ids, in order.
    pub fn agent_ids(&self) -> &[String] {
        &self.agent_ids
    }
}
