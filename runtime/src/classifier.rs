//! A loaded classifier plugin, and one instance of it judging one sample.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::call::{Opaque, Sandbox};
use super::error::{CallError, LoadError};
use super::sandbox::{PluginLog, SandboxState};
use super::{Checked, PluginInfo, Shared, v0_1_0};
use crucible_types::judge::{Judge, NoJudge};
use crucible_types::transcript::{Condition, Message, Param, Verdict};

#[derive(Clone)]
enum Pre {
    V0_1_0(v0_1_0::classifier_world::ClassifierPluginPre<SandboxState>),
}

enum Bindings {
    V0_1_0(v0_1_0::ClassifierPlugin),
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
        let pre = if checked.target.version == v0_1_0::VERSION {
            Pre::V0_1_0(checked.typecheck(
                "classifier",
                v0_1_0::classifier_world::ClassifierPluginPre::new(instance_pre),
            )?)
        } else {
            return Err(checked.unsupported());
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
        };
        Ok(Self { sandbox, bindings })
    }

    pub async fn describe(&mut self) -> Result<crucible_types::transcript::Metadata, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_classifier();
        self.sandbox.begin("describe")?;
        let outcome = api.call_describe(&mut self.sandbox.store).await;
        self.sandbox.finish("describe", outcome.map(Into::into))
    }

    pub async fn classify(
        &mut self,
        condition: &Condition,
        facts: &[Param],
        transcript: &[Message],
    ) -> Result<Verdict, CallError> {
        let Bindings::V0_1_0(b) = &self.bindings;
        let api = b.crucible_plugin_classifier();
        let condition = condition.into();
        let facts: Vec<_> = facts.iter().map(Into::into).collect();
        let transcript: Vec<_> = transcript.iter().map(Into::into).collect();
        self.sandbox.begin("classify")?;
        let outcome = api
            .call_classify(&mut self.sandbox.store, &condition, &facts, &transcript)
            .await;
        self.sandbox
            .finish_fallible("classify", outcome.map(|r| r.map(Into::into)))
    }

    pub fn finish(mut self) -> PluginLog {
        self.sandbox.take_log()
    }
}
