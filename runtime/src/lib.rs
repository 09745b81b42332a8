//! Loading and sandboxing plugins: the wasmtime runtime every scenario
//! and classifier runs in (`crucible-runtime`).
//!
//! A component's bytes are hashed and checked, compiled once (or taken from
//! the on-disk cache), checked against the contract version it targets, and
//! pre-linked. Every sample then gets fresh instances from that pre-linked
//! form, each in its own store with its own limits.

mod cache;
mod call;
mod clock;
pub mod contract;
pub mod disk_cache;
mod engine;
pub mod error;
mod glue;
mod kind;
pub mod limits;
mod memory_slots;
mod refusal;
mod sandbox;
mod v0_1_0;
mod v0_2_0;

mod classifier;
mod scenario;

use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use cache::CacheOutcome;
pub use classifier::{ClassifierInstance, ClassifierPlugin};
use contract::Binding;
pub use contract::Target;
pub use engine::WASMTIME_VERSION;
pub use error::{
    CallError, CallFailure, InvalidParameter, JudgeFailure, LoadError, Refusal, SetupError,
};
pub use kind::PluginKind;
pub use limits::Limits;
pub use sandbox::{JudgeCall, LogRecord, PluginLog};
pub use scenario::{ScenarioInstance, ScenarioPlugin};

use self::cache::CompileCache;
use self::engine::EpochTicker;
use self::sandbox::SandboxState;

/// Where a component comes from, and the hash it must have if known.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// How errors name the component: its path or registry name.
    pub label: String,
    pub bytes: Vec<u8>,
    pub expected_sha256: Option<String>,
    /// `name@version` the component must describe itself as (a registry
    /// package), if any.
    pub expected_identity: Option<String>,
}

impl PluginSource {
    pub fn from_file(
        path: &std::path::Path,
        expected_sha256: Option<String>,
    ) -> Result<Self, LoadError> {
        let label = path.display().to_string();
        let bytes =
            crucible_registry::input_file::read(path, crucible_registry::input_file::COMPONENT)
                .map_err(|source| LoadError::Read {
                    label: label.clone(),
                    source,
                })?;
        Ok(Self {
            label,
            bytes,
            expected_sha256,
            expected_identity: None,
        })
    }
}

/// Facts about a loaded component, recorded with every run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginInfo {
    pub label: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub kind: PluginKind,
    pub contract: String,
    /// The interfaces the component imports.
    pub imports: Vec<String>,
    pub sha256: String,
    pub size: usize,
}

impl PluginInfo {
    /// `name@version`, how logs and errors name a plugin.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Settings of the plugin runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub limits: Limits,
    /// Plugin instances alive at once; at least the run's concurrency.
    pub max_instances: u32,
    /// Compiled-component cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_instances: 64,
            cache_dir: CompileCache::default_dir(),
        }
    }
}

/// What the instances of every plugin share.
pub(crate) struct Shared {
    engine: Engine,
    limits: Limits,
    memory_slots: memory_slots::MemorySlots,
}

/// The engine, linker and cache that load plugins.
pub struct PluginRuntime {
    shared: Arc<Shared>,
    linker: Linker<SandboxState>,
    cache: CompileCache,
    _ticker: EpochTicker,
}

impl PluginRuntime {
    pub fn new(config: RuntimeConfig) -> Result<Self, SetupError> {
        let max_instances = config.max_instances.max(4) + 4;
        let engine = engine::build(&config.limits, max_instances)
            .map_err(|e| SetupError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        let link = |what: &'static str| {
            move |e: wasmtime::Error| SetupError::Link {
                what,
                message: format!("{e:#}"),
            }
        };
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link("WASI"))?;
        clock::shadow_monotonic_clock(&mut linker).map_err(link("the fixed clock"))?;
        v0_1_0::add_host_to_linker(&mut linker)
            .and_then(|()| v0_2_0::add_host_to_linker(&mut linker))
            .map_err(link("the host interface"))?;
        let cache = CompileCache::new(config.cache_dir, &engine);
        let ticker = EpochTicker::start(engine.clone()).map_err(SetupError::EpochThread)?;
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                limits: config.limits,
                memory_slots: memory_slots::MemorySlots::new(max_instances),
            }),
            linker,
            cache,
            _ticker: ticker,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    pub fn load_scenario(&self, source: &PluginSource) -> Result<ScenarioPlugin, LoadError> {
        let checked = self.check(source, Some(PluginKind::Scenario))?;
        ScenarioPlugin::load(Arc::clone(&self.shared), &self.linker, checked)
    }

    pub fn load_classifier(&self, source: &PluginSource) -> Result<ClassifierPlugin, LoadError> {
        let checked = self.check(source, Some(PluginKind::Classifier))?;
        ClassifierPlugin::load(Arc::clone(&self.shared), &self.linker, checked)
    }

    /// Loads a component as whichever kind it says it is.
    pub fn load_any(&self, source: &PluginSource) -> Result<AnyPlugin, LoadError> {
        let checked = self.check(source, None)?;
        match checked.target.kind {
            PluginKind::Scenario => {
                ScenarioPlugin::load(Arc::clone(&self.shared), &self.linker, checked)
                    .map(AnyPlugin::Scenario)
            }
            PluginKind::Classifier => {
                ClassifierPlugin::load(Arc::clone(&self.shared), &self.linker, checked)
                    .map(AnyPlugin::Classifier)
            }
        }
    }

    /// Every check that needs no instance: the hash, the header, compiling,
    /// the contract it targets, its imports, linking, and its exports'
    /// types against the world's (not only their names). Nothing of the
    /// plugin runs; this is what a registry checks an upload with.
    pub fn validate_static(&self, source: &PluginSource) -> Result<Target, LoadError> {
        let checked = self.check(source, None)?;
        let binding = checked.binding()?;
        let instance_pre = checked.link(&self.linker)?;
        match (checked.target.kind, binding) {
            (PluginKind::Scenario, Binding::V0_1_0) => {
                checked.typecheck(
                    "scenario",
                    v0_1_0::scenario_world::ScenarioPluginPre::new(instance_pre),
                )?;
            }
            (PluginKind::Scenario, Binding::V0_2_0) => {
                checked.typecheck(
                    "scenario",
                    v0_2_0::scenario_world::ScenarioPluginPre::new(instance_pre),
                )?;
            }
            (PluginKind::Classifier, Binding::V0_1_0) => {
                checked.typecheck(
                    "classifier",
                    v0_1_0::classifier_world::ClassifierPluginPre::new(instance_pre),
                )?;
            }
            (PluginKind::Classifier, Binding::V0_2_0) => {
                checked.typecheck(
                    "classifier",
                    v0_2_0::classifier_world::ClassifierPluginPre::new(instance_pre),
                )?;
            }
        }
        Ok(checked.target)
    }

    /// Verifies, compiles and identifies a component.
    fn check(&self, source: &PluginSource, kind: Option<PluginKind>) -> Result<Checked, LoadError> {
        let label = source.label.clone();
        let sha256 = hex::encode(Sha256::digest(&source.bytes));
        if let Some(expected) = &source.expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(LoadError::HashMismatch {
                label,
                expected: expected.clone(),
                actual: sha256,
            });
        }
        if wasmparser::Parser::is_core_wasm(&source.bytes) {
            return Err(LoadError::CoreModule { label });
        }
        if !wasmparser::Parser::is_component(&source.bytes) {
            return Err(LoadError::NotWasm {
                label,
                detail: "the file does not start with a component header".into(),
            });
        }
        let (component, cache) =
            self.cache
                .load_or_compile(&self.shared.engine, &label, &source.bytes, &sha256)?;
        let component_type = component.component_type();
        let target = contract::detect(
            &label,
            kind,
            component_type
                .exports(&self.shared.engine)
                .map(|(name, _)| name),
        )?;
        let imports: Vec<String> = component_type
            .imports(&self.shared.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        contract::check_imports(&label, &target, &imports)?;
        let memories = self.shared.memory_slots.admit(
            &label,
            component.resources_required().map(|r| r.num_memories),
        )?;
        Ok(Checked {
            label,
            expected_identity: source.expected_identity.clone(),
            component,
            target,
            imports,
            sha256,
            size: source.bytes.len(),
            cache,
            memories,
        })
    }
}

/// A loaded plugin of either kind.
pub enum AnyPlugin {
    Scenario(ScenarioPlugin),
    Classifier(ClassifierPlugin),
}

impl AnyPlugin {
    pub fn info(&self) -> &PluginInfo {
        match self {
            AnyPlugin::Scenario(p) => &p.info,
            AnyPlugin::Classifier(p) => &p.info,
        }
    }

    /// Whether loading compiled the component or took it from the cache.
    pub fn cache(&self) -> CacheOutcome {
        match self {
            AnyPlugin::Scenario(p) => p.cache,
            AnyPlugin::Classifier(p) => p.cache,
        }
    }
}

/// A component that passed the checks that need no instance.
struct Checked {
    label: String,
    expected_identity: Option<String>,
    component: Component,
    target: Target,
    imports: Vec<String>,
    sha256: String,
    size: usize,
    cache: CacheOutcome,
    /// Linear memories per instance.
    memories: u32,
}

impl Checked {
    /// Links the component against the host: fails on any import the
    /// sandbox does not provide.
    fn link(
        &self,
        linker: &Linker<SandboxState>,
    ) -> Result<wasmtime::component::InstancePre<SandboxState>, LoadError> {
        linker.instantiate_pre(&self.component).map_err(|e| {
            self.mismatch(format!(
                "cannot be linked: {}{}",
                render_error(&e),
                self.newer_patch_note()
            ))
        })
    }

    /// Checks the exports' types against a world's generated bindings.
    fn typecheck<P>(&self, world: &str, bindings: wasmtime::Result<P>) -> Result<P, LoadError> {
        bindings.map_err(|e| {
            self.mismatch(format!(
                "does not match the {world} world: {}{}",
                render_error(&e),
                self.newer_patch_note()
            ))
        })
    }

    /// The bindings this component runs on; `detect` has already refused a
    /// version with none, so this fails only if the two disagree.
    fn binding(&self) -> Result<Binding, LoadError> {
        Binding::for_target(&self.target.version)
            .ok_or_else(|| self.mismatch("no bindings for this contract version"))
    }

    /// Why a component built for a newer patch of a supported line may not
    /// link: it uses what that patch added. Empty for any other component.
    fn newer_patch_note(&self) -> String {
        match Binding::for_target(&self.target.version).map(Binding::version) {
            Some(runs) if runs < self.target.version => format!(
                " (it targets {PACKAGE}@{}, newer than the {PACKAGE}@{runs} this host runs, \
                 and uses something {runs} lacks; run it on a newer Crucible, or build it \
                 against {runs})",
                self.target.version,
                PACKAGE = contract::PACKAGE,
            ),
            _ => String::new(),
        }
    }

    /// Wraps the failure of a call made while loading.
    fn loading(&self, call: &'static str) -> impl Fn(CallError) -> LoadError + '_ {
        move |source| LoadError::Call {
            label: self.label.clone(),
            call,
            source,
        }
    }

    /// A component published as one `name@version` must describe itself as
    /// that: the registry recorded what the publisher said, without running
    /// the component.
    fn verify_identity(
        &self,
        metadata: &crucible_types::transcript::Metadata,
    ) -> Result<(), LoadError> {
        // Tables, logs and errors show these on one line each.
        crucible_types::names::check("its describe name", &metadata.name)
            .and_then(|()| crucible_types::names::check("its describe version", &metadata.version))
            .map_err(|e| self.mismatch(e))?;
        let described = format!("{}@{}", metadata.name, metadata.version);
        match &self.expected_identity {
            Some(published) if *published != described => Err(self.mismatch(format!(
                "describes itself as `{described}`, but the registry publishes it as `{published}`"
            ))),
            _ => Ok(()),
        }
    }

    /// Refuses a condition id, parameter name or value that would break
    /// the line it is shown on (`ID[name=value]` in every table).
    fn check_conditions(
        &self,
        parameters: &[crucible_types::transcript::ParameterSpec],
        conditions: &[crucible_types::transcript::Condition],
    ) -> Result<(), LoadError> {
        let names = parameters
            .iter()
            .flat_map(|p| std::iter::once(&p.name).chain(&p.values))
            .map(|n| ("a parameter name or value", n));
        let ids = conditions.iter().flat_map(|c| {
            std::iter::once(("a condition id", &c.id)).chain(c.params.iter().flat_map(|p| {
                [
                    ("a condition's parameter", &p.name),
                    ("a condition's value", &p.value),
                ]
            }))
        });
        for (what, text) in names.chain(ids) {
            crucible_types::names::check(what, text).map_err(|e| self.mismatch(e))?;
        }
        Ok(())
    }

    fn mismatch(&self, detail: impl std::fmt::Display) -> LoadError {
        LoadError::Mismatch {
            label: self.label.clone(),
            target: self.target.to_string(),
            detail: detail.to_string(),
        }
    }

    fn info(&self, metadata: crucible_types::transcript::Metadata) -> PluginInfo {
        PluginInfo {
            label: self.label.clone(),
            name: metadata.name,
            version: metadata.version,
            description: metadata.description,
            kind: self.target.kind,
            contract: self.target.to_string(),
            imports: self.imports.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
        }
    }
}

/// Drives plugin calls to completion from code that is not async itself:
/// loading, describing, `inspect`, `check`, `test`, `publish`.
///
/// A plugin call can reach host futures that need a tokio runtime (a judge
/// call over HTTP, anything WASI awaits), and with none about they panic
/// the host ("there is no reactor running"). Outside a runtime the call
/// gets a runtime of its own on this thread; inside one (loading a plugin
/// during a run) its context is already entered, and the other workers
/// drive its timers and sockets while this one waits.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    if tokio::runtime::Handle::try_current().is_ok() {
        return pollster::block_on(future);
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        // Only when the OS refuses the runtime's few resources; the call
        // still runs, and whatever then needs a runtime fails as it did.
        Err(_) => pollster::block_on(future),
    }
}

/// Renders a wasmtime error with its causes on one line.
fn render_error(error: &wasmtime::Error) -> String {
    let mut parts: Vec<String> = error.chain().map(ToString::to_string).collect();
    parts.dedup();
    parts.join(": ")
}
