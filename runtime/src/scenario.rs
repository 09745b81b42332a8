//! A loaded scenario plugin, and one instance of it running one episode.

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceAny};

use super::call::{Opaque, Sandbox};
use super::contract::Binding;
use super::error::{CallError, LoadError, Refusal};
use super::sandbox::{PluginLog, SandboxState};
use super::{Checked, PluginInfo, Shared, v0_1_0, v0_2_0};
use crucible_types::judge::{Judge, NoJudge};
use crucible_types::transcript::{
    Condition, Opening, Param, ParameterSpec, Reference, Reply, Step,
};

/// The pre-linked form of a scenario, one variant per contract version.
#[derive(Clone)]
enum Pre {
    V0_1_0(v0_1_0::scenario_world::ScenarioPluginPre<SandboxState>),
    V0_2_0(v0_2_0::scenario_world::ScenarioPluginPre<SandboxState>),
}

enum Bindings {
    V0_1_0(v0_1_0::ScenarioPlugin),
    V0_2_0(v0_2_0::ScenarioPlugin),
}

/// Evaluates `$body` with `$api` bound to the scenario interface of
/// whichever version the instance runs: the body reads the same for
/// every version, but its types are that version's own.
macro_rules! each_version {
    ($bindings:expr, $api:ident => $body:expr) => {
        match $bindings {
            Bindings::V0_1_0(b) => {
                let $api = b.crucible_plugin_scenario();
                $body
            }
            Bindings::V0_2_0(b) => {
                let $api = b.crucible_plugin_scenario();
                $body
            }
        }
    };
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
        let pre = match checked.binding()? {
            Binding::V0_1_0 => Pre::V0_1_0(checked.typecheck(
                "scenario",
                v0_1_0::scenario_world::ScenarioPluginPre::new(instance_pre),
            )?),
            Binding::V0_2_0 => Pre::V0_2_0(checked.typecheck(
                "scenario",
                v0_2_0::scenario_world::ScenarioPluginPre::new(instance_pre),
            )?),
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
            Pre::V0_2_0(pre) => {
                let outcome = pre.instantiate_async(&mut sandbox.store).await;
                Bindings::V0_2_0(sandbox.finish("instantiate", outcome.map(Opaque))?.0)
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
        self.sandbox.begin("describe")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            api.call_describe(&mut *store).await.map(Into::into)
        });
        self.sandbox.finish("describe", outcome)
    }

    pub async fn parameters(&mut self) -> Result<Vec<ParameterSpec>, CallError> {
        self.sandbox.begin("parameters")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.call_parameters(&mut *store).await;
            outcome.map(|ps| ps.into_iter().map(Into::into).collect())
        });
        self.sandbox.finish("parameters", outcome)
    }

    pub async fn conditions(&mut self) -> Result<Vec<Condition>, CallError> {
        self.sandbox.begin("conditions")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.call_conditions(&mut *store).await;
            outcome.map(|cs| cs.into_iter().map(Into::into).collect())
        });
        self.sandbox.finish("conditions", outcome)
    }

    pub async fn references(&mut self, condition: &Condition) -> Result<Vec<Reference>, CallError> {
        self.sandbox.begin("references")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.call_references(&mut *store, &condition.into()).await;
            outcome.map(|r| {
                r.map(|refs| refs.into_iter().map(Into::into).collect())
                    .map_err(Refusal::from)
            })
        });
        self.sandbox.finish_fallible("references", outcome)
    }

    /// Opens the episode this instance will run.
    pub async fn open(&mut self, condition: &Condition, seed: u64) -> Result<(), CallError> {
        self.sandbox.begin("open")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.call_open(&mut *store, &condition.into(), seed).await;
            outcome.map(|r| r.map(Opaque).map_err(Refusal::from))
        });
        let episode = self.sandbox.finish_fallible("open", outcome)?;
        self.episode = Some(episode.0);
        Ok(())
    }

    pub async fn opening(&mut self) -> Result<Opening, CallError> {
        let episode = self.episode("opening")?;
        self.sandbox.begin("opening")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.episode().call_opening(&mut *store, episode).await;
            outcome.map(Into::into)
        });
        self.sandbox.finish("opening", outcome)
    }

    pub async fn step(&mut self, reply: &Reply) -> Result<Step, CallError> {
        let episode = self.episode("step")?;
        self.sandbox.begin("step")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.episode().call_step(&mut *store, episode, &reply.into()).await;
            outcome.map(|r| r.map(Into::into).map_err(Refusal::from))
        });
        self.sandbox.finish_fallible("step", outcome)
    }

    pub async fn facts(&mut self) -> Result<Vec<Param>, CallError> {
        let episode = self.episode("facts")?;
        self.sandbox.begin("facts")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let outcome = api.episode().call_facts(&mut *store, episode).await;
            outcome.map(|ps| ps.into_iter().map(Into::into).collect())
        });
        self.sandbox.finish("facts", outcome)
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
