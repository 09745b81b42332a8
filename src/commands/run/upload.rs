//! `crucible run --upload s3://BUCKET/PREFIX`: the run directory goes to
//! object storage when the run ends (finished or stopped), and a shard
//! whose run is already there (a restarted Kubernetes pod) continues it
//! rather than starting over.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use crucible_engine::remote::{Remote, RemoteUrl};
use crucible_engine::run::{LocalPaths, RunConfig, RunRequest, Shard};
use crucible_engine::store::results_path;

/// Where a run goes under the upload location: a shard by its share
/// (`shard-K-of-N`), so that a restarted shard finds its own run; any
/// other run by its directory's name, its id.
fn remote_name(dir: &Path) -> String {
    let shard = crucible_engine::store::merge::shard_facts(&results_path(dir))
        .ok()
        .and_then(|facts| facts.meta("config").map(str::to_owned))
        .and_then(|text| serde_json::from_str::<RunConfig>(&text).ok())
        .and_then(|config| config.shard);
    match shard {
        Some(shard) => shard_name(shard),
        None => dir
            .file_name()
            .map_or_else(|| "run".to_owned(), |n| n.to_string_lossy().into_owned()),
    }
}

fn shard_name(shard: Shard) -> String {
    format!("shard-{}-of-{}", shard.index, shard.count)
}

/// Uploads the run directory `dir`; where it went.
pub fn upload(runtime: &tokio::runtime::Runtime, url: &RemoteUrl, dir: &Path) -> Result<RemoteUrl> {
    let name = remote_name(dir);
    runtime
        .block_on(async { Remote::connect(url)?.upload_run(dir, &name).await })
        .with_context(|| format!("cannot upload {} to {url}", dir.display()))
}

/// When shard `shard`'s run is already kept under `url`: its run
/// directory under `output` (downloaded unless already there), to resume.
/// It must be the run `request` asks for.
pub fn stored_shard(
    runtime: &tokio::runtime::Runtime,
    url: &RemoteUrl,
    shard: Shard,
    output: &Path,
    request: &RunRequest,
) -> Result<Option<PathBuf>> {
    let name = shard_name(shard);
    let remote = Remote::connect(url)?;
    let context = || format!("cannot look for shard {shard}'s run at {}", url.run(&name));
    if !runtime
        .block_on(remote.has_run(&name))
        .with_context(context)?
    {
        return Ok(None);
    }
    let dir = output.join(&name);
    if !results_path(&dir).is_file() {
        runtime
            .block_on(remote.download_run(&url.run(&name), &dir))
            .with_context(context)?;
    }
    let stored = crucible_engine::store::merge::shard_facts(&results_path(&dir))?
        .meta("config")
        .map(str::to_owned)
        .unwrap_or_default();
    if let Some(difference) = RunConfig::differs_from_stored(request, &stored)? {
        bail!(
            "{} holds shard {shard} of another run ({difference}); upload this run to another prefix, or remove that one",
            url.run(&name)
        );
    }
    LocalPaths {
        suite: std::path::absolute(&request.suite).unwrap_or_else(|_| request.suite.clone()),
    }
    .write(&dir)?;
    Ok(Some(dir))
}
