//! A loaded classifier plugin, and one instance of it judging one sample.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::call::{Opaque, Sandbox};
use super::contract::Binding;
use super::error::{CallError, LoadError, Refusal};
use super::sandbox::{PluginLog, SandboxState};
use super::{Checked, PluginInfo, Shared, v0_1_0, v0_2_0};
use crucible_types::judge::{Judge, NoJudge};
use crucible_types::transcript::{Condition, Message, Param, Verdict};

#[derive(Clone)]
enum Pre {
    V0_1_0(v0_1_0::classifier_world::ClassifierPluginPre<SandboxState>),
    V0_2_0(v0_2_0::classifier_world::ClassifierPluginPre<SandboxState>),
}

enum Bindings {
    V0_1_0(v0_1_0::ClassifierPlugin),
    V0_2_0(v0_2_0::ClassifierPlugin),
}

/// Evaluates `$body` with `$api` bound to the classifier interface of
/// whichever version the instance runs (see the scenario's twin).
macro_rules! each_version {
    ($bindings:expr, $api:ident => $body:expr) => {
        match $bindings {
            Bindings::V0_1_0(b) => {
                let $api = b.crucible_plugin_classifier();
                $body
            }
            Bindings::V0_2_0(b) => {
                let $api = b.crucible_plugin_classifier();
                $body
            }
        }
    };
}

/// A classifier ready to run.
pub struct ClassifierPlugin {
    shared: Arc<Shared>,
    pre: Pre,
    /// Linear memories per instance: pool slots each instance waits for.
    memories: u32,
    pub info: PluginInfo,
    pub cache: super::CacheOutcome,
}

impl ClassifierPlugin {
    pub(super) fn load(
        shared: Arc<Shared>,
        linker: &Linker<SandboxState>,
        checked: Checked,
    ) -> Result<Self, LoadError> {
        let instance_pre = checked.link(linker)?;
        let pre = match checked.binding()? {
            Binding::V0_1_0 => Pre::V0_1_0(checked.typecheck(
                "classifier",
                v0_1_0::classifier_world::ClassifierPluginPre::new(instance_pre),
            )?),
            Binding::V0_2_0 => Pre::V0_2_0(checked.typecheck(
                "classifier",
                v0_2_0::classifier_world::ClassifierPluginPre::new(instance_pre),
            )?),
        };
        let label: Arc<str> = Arc::from(checked.label.as_str());
        // Loading runs the plugin's self-description to completion here:
        // nothing else is waiting, and it calls no judge.
        let metadata = super::block_on(async {
            let mut probe = ClassifierInstance::new(
                Arc::clone(&shared),
                &pre,
                checked.memories,
                label,
                0,
                Arc::new(NoJudge),
            )
            .await
            .map_err(checked.loading("instantiate"))?;
            probe.describe().await.map_err(checked.loading("describe"))
        })?;
        checked.verify_identity(&metadata)?;
        Ok(Self {
            info: checked.info(metadata),
            cache: checked.cache,
            memories: checked.memories,
            shared,
            pre,
        })
    }

    /// A fresh instance in a fresh sandbox, for one sample.
    pub async fn instantiate(
        &self,
        seed: u64,
        judge: Arc<dyn Judge>,
    ) -> Result<ClassifierInstance, CallError> {
        ClassifierInstance::new(
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

pub struct ClassifierInstance {
    sandbox: Sandbox,
    bindings: Bindings,
}

impl ClassifierInstance {
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
        Ok(Self { sandbox, bindings })
    }

    pub async fn describe(&mut self) -> Result<crucible_types::transcript::Metadata, CallError> {
        self.sandbox.begin("describe")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            api.call_describe(&mut *store).await.map(Into::into)
        });
        self.sandbox.finish("describe", outcome)
    }

    pub async fn classify(
        &mut self,
        condition: &Condition,
        facts: &[Param],
        transcript: &[Message],
    ) -> Result<Verdict, CallError> {
        self.sandbox.begin("classify")?;
        let store = &mut self.sandbox.store;
        let outcome = each_version!(&self.bindings, api => {
            let facts: Vec<_> = facts.iter().map(Into::into).collect();
            let transcript: Vec<_> = transcript.iter().map(Into::into).collect();
            let outcome = api
                .call_classify(&mut *store, &condition.into(), &facts, &transcript)
                .await;
            outcome.map(|r| r.map(Into::into).map_err(Refusal::from))
        });
        self.sandbox.finish_fallible("classify", outcome)
    }

    pub fn finish(mut self) -> PluginLog {
        self.sandbox.take_log()
    }
}
