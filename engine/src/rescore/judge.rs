//! The judge a rescore's classifier may consult: built from `--judge` as
//! `crucible run --judge` builds it, with the run's suite's settings for
//! that model (`[[models]]`) and provider (`[providers.*]`), its retries,
//! and the response cache.

use std::sync::Arc;

use super::RescoreError;
use crate::judge::{Judge, JudgeCaps, ModelJudge};
use crate::model::response_cache::{CachedModel, ResponseCache};
use crate::model::{Agent, KeyPolicy, Model, ModelSpec, Politeness};
use crate::run::ResponseCacheSettings;
use crate::suite::LoadedSuite;

/// The judge `id` names (`provider/model[,key=value...]`), and its
/// `provider/model`.
pub(super) fn connect(
    suite: Option<&LoadedSuite>,
    id: &str,
    responses: &ResponseCacheSettings,
    caps: JudgeCaps,
    keys: &KeyPolicy,
) -> Result<(Arc<dyn Judge>, String), RescoreError> {
    let spec = match suite {
        Some(suite) => suite.model_spec(id)?,
        None => {
            let spec = ModelSpec::parse(id)?;
            spec.validate()?;
            spec
        }
    };
    let model = match Agent::from_spec(&spec, keys)? {
        Agent::Remote(model) => model,
        Agent::Reference(_) | Agent::Scripted(_) => {
            return Err(RescoreError::ReferenceJudge(id.to_owned()));
        }
    };
    let providers = suite
        .map(|s| s.manifest.providers.clone())
        .unwrap_or_default();
    let politeness =
        Politeness::new(&providers).map_err(|e| RescoreError::Runtime(e.to_string()))?;
    let mut model: Arc<dyn Model> = Arc::new(politeness.resilient(model, &spec));
    if let Some(path) = &responses.path {
        let cache = Arc::new(ResponseCache::open(path)?);
        model = Arc::new(CachedModel::new(model, &spec, cache, !responses.refresh));
    }
    let budget = suite
        .and_then(|s| s.manifest.run.judge_budget)
        .unwrap_or(u64::MAX);
    Ok((Arc::new(ModelJudge::new(model, budget, caps)), spec.id))
}
