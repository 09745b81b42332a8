//! A loaded scenario plugin, and one instance of it running one episode.

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceAny};

use super::call::{Opaque, Sandbox};
use super::error::{CallError, LoadError};
use super::sandbox::{PluginLog, SandboxState};
use super::{Checked, PluginInfo, Shared, v0_1_0};
use crate::judge::{Judge, NoJudge};
use crate::transcript::{Condition, Opening, Param, ParameterSpec, Reference, Reply, Step};

/// The pre-linked form of a scenario, one variant per contract version.
#[derive(Clone)]
enum Pre {
    V0_1_0(v0_1_0::scenario_world::ScenarioPluginPre<SandboxState>),
}

enum Bindings {
    V0_1_0(v0_1_0::ScenarioPlugin),
}

/// A scenario ready to run: checked, compiled, described.
pub struct ScenarioPlugin {
    shared: Arc<Shared>,
    pre: Pre,
    pub info: PluginInfo,
    pub parameters: Vec<ParameterSpec>,
    pub conditions: Vec<Condition>,
    pub cache: super::CacheOutcome,
}

impl ScenarioPlugin {
    pub(super) fn load(
        shared: Arc<Shared>,
        linker: &Linker<SandboxState>,
        checked: Checked,
    ) -> Result<Self, LoadError> {
        let instance_pre = checked.link(linker)?;
        let pre = if checked.target.version == v0_1_0::VERSION {
            Pre::V0_1_0(checked.typecheck(
                "scenario",
                v0_1_0::scenario_world::ScenarioPluginPre::new(instance_pre),
            )?)
        } else {
            return Err(checked.unsupported());
        };
        let label: Arc<str> = Arc::from(checked.label.as_str());
        let mut probe =
            ScenarioInstance::new(Arc::clone(&shared), &pre, label, 0, Arc::new(NoJudge))
                .map_err(checked.loading("instantiate"))?;
        let metadata = probe.describe().map_err(checked.loading("describe"))?;
        checked.verify_identity(&metadata)?;
        let parameters = probe.parameters().map_err(checked.loading("parameters"))?;
        let conditions = probe.conditions().map_err(checked.loading("conditions"))?;
        Ok(Self {
            info: checked.info(metadata),
            cache: checked.cache,
            shared,
            pre,
            parameters,
            conditions,
        })
    }

    /// A fresh instance in a fresh sandbox, for one sample.
    pub fn instantiate(
        &self,
        seed: u64,
        judge: Arc<dyn Judge>,
    ) -> Result<ScenarioInstance, CallError> {
        ScenarioInstance::new(
            Arc::clone(&self.shared),
            &self.pre,
            Arc::from(self.info.id()),
            seed,
            judge,
        )
    }
}

/// One instance of a scenario: at most one open episode.
pub struct ScenarioInstance {
    sandbox: Sandbox,
    bindings: Bindings,
    episode: Option<ResourceAny>,
}

impl ScenarioInstance {
    fn new(
        shared: Arc<Shared>,
        pre: &Pre,
        plugin: Arc<str>,
        seed: u64,
        judge: Arc<dyn Judge>,
    ) -> Result<Self, CallError> {
        let mut sandbox = Sandbox::new(shared, plugin, seed, judge);
        let bindings = match pre {
            Pre::V0_1_0(pre) => Bindings::V0_1_0(
                sandbox
                    .call("instantiate", |store| pre.instantiate(store).map(Opaque))?
                    .0,
            ),
        };
        Ok(Self {
            sandbox,
            bindings,
            episode: None,
        })
    }

    pub fn plugin(&self) -> &str {
        self.sandbox.plugin()
    }

    pub fn describe(&mut self) -> Result<crate::transcript::Metadata, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        self.sandbox
            .call("describe", |store| api.call_describe(store).map(Into::into))
    }

    pub fn parameters(&mut self) -> Result<Vec<ParameterSpec>, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        self.sandbox.call("parameters", |store| {
            api.call_parameters(store)
                .map(|ps| ps.into_iter().map(Into::into).collect())
        })
    }

    pub fn conditions(&mut self) -> Result<Vec<Condition>, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        self.sandbox.call("conditions", |store| {
            api.call_conditions(store)
                .map(|cs| cs.into_iter().map(Into::into).collect())
        })
    }

    pub fn references(&mut self, condition: &Condition) -> Result<Vec<Reference>, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        let condition = condition.into();
        self.sandbox.call_fallible("references", |store| {
            api.call_references(store, &condition)
                .map(|r| r.map(|refs| refs.into_iter().map(Into::into).collect()))
        })
    }

    /// Opens the episode this instance will run.
    pub fn open(&mut self, condition: &Condition, seed: u64) -> Result<(), CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        let condition = condition.into();
        let episode = self.sandbox.call_fallible("open", |store| {
            api.call_open(store, &condition, seed)
                .map(|r| r.map(Opaque))
        })?;
        self.episode = Some(episode.0);
        Ok(())
    }

    pub fn opening(&mut self) -> Result<Opening, CallError> {
        let episode = self.episode("opening")?;
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario().episode();
        self.sandbox.call("opening", |store| {
            api.call_opening(store, episode).map(Into::into)
        })
    }

    pub fn step(&mut self, reply: &Reply) -> Result<Step, CallError> {
        let episode = self.episode("step")?;
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario().episode();
        let reply = reply.into();
        self.sandbox.call_fallible("step", |store| {
            api.call_step(store, episode, &reply)
                .map(|r| r.map(Into::into))
        })
    }

    pub fn facts(&mut self) -> Result<Vec<Param>, CallError> {
        let episode = self.episode("facts")?;
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario().episode();
        self.sandbox.call("facts", |store| {
            api.call_facts(store, episode)
                .map(|ps| ps.into_iter().map(Into::into).collect())
        })
    }

    /// Ends the instance and hands back what it logged.
    pub fn finish(mut self) -> PluginLog {
        self.sandbox.take_log()
    }

    fn episode(&self, call: &'static str) -> Result<ResourceAny, CallError> {
        self.episode.ok_or_else(|| CallError {
            plugin: self.sandbox.plugin().to_owned(),
            call,
            cause: super::CallFailure::Trap("called before an episode was opened".into()),
        })
    }
}
