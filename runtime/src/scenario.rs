//! A loaded scenario plugin, and one instance of it running one episode.

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceAny};

use super::call::{Opaque, Sandbox};
use super::error::{CallError, LoadError};
use super::sandbox::{PluginLog, SandboxState};
use super::{Checked, PluginInfo, Shared, v0_1_0};
use crucible_types::judge::{Judge, NoJudge};
use crucible_types::transcript::{
    Condition, Opening, Param, ParameterSpec, Reference, Reply, Step,
};

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
    /// Linear memories per instance: pool slots each instance waits for.
    memories: u32,
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
        // Loading runs the plugin's self-description to completion here:
        // nothing else is waiting, and it calls no judge.
        let (metadata, parameters, conditions) = super::block_on(async {
            let mut probe = ScenarioInstance::new(
                Arc::clone(&shared),
                &pre,
                checked.memories,
                label,
                0,
                Arc::new(NoJudge),
            )
            .await
            .map_err(checked.loading("instantiate"))?;
            let metadata = probe
                .describe()
                .await
                .map_err(checked.loading("describe"))?;
            checked.verify_identity(&metadata)?;
            let parameters = probe
                .parameters()
                .await
                .map_err(checked.loading("parameters"))?;
            let conditions = probe
                .conditions()
                .await
                .map_err(checked.loading("conditions"))?;
            checked.check_conditions(&parameters, &conditions)?;
            Ok::<_, LoadError>((metadata, parameters, conditions))
        })?;
        Ok(Self {
            info: checked.info(metadata),
            cache: checked.cache,
            memories: checked.memories,
            shared,
            pre,
            parameters,
            conditions,
        })
    }

    /// A fresh instance in a fresh sandbox, for one sample.
    pub async fn instantiate(
        &self,
        seed: u64,
        judge: Arc<dyn Judge>,
    ) -> Result<ScenarioInstance, CallError> {
        ScenarioInstance::new(
            Arc::clone(&self.shared),
            &self.pre,
            self.memories,
            Arc::from(self.info.id()),
            seed,
            judge,
        )
        .await
    }
}

/// One instance of a scenario: at most one open episode.
pub struct ScenarioInstance {
    sandbox: Sandbox,
    bindings: Bindings,
    episode: Option<ResourceAny>,
}

impl ScenarioInstance {
    async fn new(
        shared: Arc<Shared>,
        pre: &Pre,
        memories: u32,
        plugin: Arc<str>,
        seed: u64,
        judge: Arc<dyn Judge>,
    ) -> Result<Self, CallError> {
        let mut sandbox = Sandbox::new(shared, plugin, seed, judge, memories).await;
        sandbox.begin("instantiate")?;
        let bindings = match pre {
            Pre::V0_1_0(pre) => {
                let outcome = pre.instantiate_async(&mut sandbox.store).await;
                Bindings::V0_1_0(sandbox.finish("instantiate", outcome.map(Opaque))?.0)
            }
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

    pub async fn describe(&mut self) -> Result<crucible_types::transcript::Metadata, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        self.sandbox.begin("describe")?;
        let outcome = api.call_describe(&mut self.sandbox.store).await;
        self.sandbox.finish("describe", outcome.map(Into::into))
    }

    pub async fn parameters(&mut self) -> Result<Vec<ParameterSpec>, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        self.sandbox.begin("parameters")?;
        let outcome = api.call_parameters(&mut self.sandbox.store).await;
        self.sandbox.finish(
            "parameters",
            outcome.map(|ps| ps.into_iter().map(Into::into).collect()),
        )
    }

    pub async fn conditions(&mut self) -> Result<Vec<Condition>, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        self.sandbox.begin("conditions")?;
        let outcome = api.call_conditions(&mut self.sandbox.store).await;
        self.sandbox.finish(
            "conditions",
            outcome.map(|cs| cs.into_iter().map(Into::into).collect()),
        )
    }

    pub async fn references(&mut self, condition: &Condition) -> Result<Vec<Reference>, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        let condition = condition.into();
        self.sandbox.begin("references")?;
        let outcome = api
            .call_references(&mut self.sandbox.store, &condition)
            .await;
        self.sandbox.finish_fallible(
            "references",
            outcome.map(|r| r.map(|refs| refs.into_iter().map(Into::into).collect())),
        )
    }

    /// Opens the episode this instance will run.
    pub async fn open(&mut self, condition: &Condition, seed: u64) -> Result<(), CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario();
        let condition = condition.into();
        self.sandbox.begin("open")?;
        let outcome = api
            .call_open(&mut self.sandbox.store, &condition, seed)
            .await;
        let episode = self
            .sandbox
            .finish_fallible("open", outcome.map(|r| r.map(Opaque)))?;
        self.episode = Some(episode.0);
        Ok(())
    }

    pub async fn opening(&mut self) -> Result<Opening, CallError> {
        let episode = self.episode("opening")?;
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario().episode();
        self.sandbox.begin("opening")?;
        let outcome = api.call_opening(&mut self.sandbox.store, episode).await;
        self.sandbox.finish("opening", outcome.map(Into::into))
    }

    pub async fn step(&mut self, reply: &Reply) -> Result<Step, CallError> {
        let episode = self.episode("step")?;
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario().episode();
        let reply = reply.into();
        self.sandbox.begin("step")?;
        let outcome = api
            .call_step(&mut self.sandbox.store, episode, &reply)
            .await;
        self.sandbox
            .finish_fallible("step", outcome.map(|r| r.map(Into::into)))
    }

    pub async fn facts(&mut self) -> Result<Vec<Param>, CallError> {
        let episode = self.episode("facts")?;
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_scenario().episode();
        self.sandbox.begin("facts")?;
        let outcome = api.call_facts(&mut self.sandbox.store, episode).await;
        self.sandbox.finish(
            "facts",
            outcome.map(|ps| ps.into_iter().map(Into::into).collect()),
        )
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
