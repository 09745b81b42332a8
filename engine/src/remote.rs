//! Run directories in S3-compatible object storage: `crucible run --upload
//! s3://BUCKET/PREFIX` puts a run there when it ends, `crucible merge` reads
//! shards from there, and a restarted shard (a Kubernetes pod, say) picks
//! up its own run from there instead of starting over.
//!
//! A run is kept at `PREFIX/NAME/` as `results.sqlite` (a consistent
//! snapshot of the store, never the live file with its WAL beside it) and
//! `summary.json`. Its `local.json`, which holds a path of the machine it
//! ran on, stays behind.
//!
//! The client is the `object_store` crate's, configured as its
//! `AmazonS3Builder::from_env` reads the standard variables
//! (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
//! AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL for a server other than
//! AWS, AWS_ALLOW_HTTP=true for one without TLS; see
//! <https://docs.rs/object_store/0.12.5/object_store/aws/struct.AmazonS3Builder.html#method.from_env>).
//! Nothing of them is written anywhere; the secret and the session token are
//! registered with the key scrubber, so an error that quotes them shows
//! neither.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use futures::StreamExt as _;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use tokio::io::AsyncWriteExt as _;

use crate::store::results_path;

/// The files of a run directory kept in object storage.
const STORED_FILES: [&str; 2] = ["results.sqlite", "summary.json"];

/// Bytes read from a file at a time for upload.
const UPLOAD_CHUNK: usize = 8 << 20;

/// `s3://BUCKET/PREFIX`: where runs are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "`{0}` is not an object storage location: write s3://BUCKET/PREFIX (an S3-compatible server is set with AWS_ENDPOINT_URL)"
    )]
    Url(String),
    #[error("{url}: {what}: {source}")]
    Storage {
        url: String,
        what: &'static str,
        source: object_store::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: no run there (no results.sqlite under it)")]
    NoRun(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl FromStr for RemoteUrl {
    type Err = RemoteError;

    fn from_str(text: &str) -> Result<Self, RemoteError> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| RemoteError::Url(text.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        // A bucket name is lower-case letters, digits, dots and hyphens; a
        // prefix has no empty, `.` or `..` segment (object_store refuses
        // them too, later and less plainly).
        let bucket_ok = !bucket.is_empty()
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let prefix_ok = prefix.is_empty()
            || prefix.split('/').all(|s| {
                !s.is_empty() && s != "." && s != ".." && !s.chars().any(char::is_control)
            });
        if !bucket_ok || !prefix_ok {
            return Err(RemoteError::Url(text.to_owned()));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl RemoteUrl {
    /// Whether `text` names object storage rather than a local path.
    pub fn is_remote(text: &str) -> bool {
        text.starts_with("s3://")
    }

    /// The location of the run `name` under this one.
    pub fn run(&self, name: &str) -> RemoteUrl {
        let prefix = if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        };
        RemoteUrl {
            bucket: self.bucket.clone(),
            prefix,
        }
    }
}

/// A bucket, reached with the environment's credentials.
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    url: RemoteUrl,
}

impl Remote {
    pub fn connect(url: &RemoteUrl) -> Result<Self, RemoteError> {
        for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
            if let Ok(value) = std::env::var(secret) {
                crate::model::secret::register(&value);
            }
        }
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(&url.bucket)
            .build()
            .map_err(|source| RemoteError::Storage {
                url: url.to_string(),
                what: "cannot configure the S3 client",
                source,
            })?;
        Ok(Self {
            store: Arc::new(store),
            url: url.clone(),
        })
    }

    fn failed(
        &self,
        at: &RemoteUrl,
        what: &'static str,
    ) -> impl Fn(object_store::Error) -> RemoteError {
        let url = at.to_string();
        move |source| RemoteError::Storage {
            url: url.clone(),
            what,
            source,
        }
    }

    /// Uploads the run directory `dir` as `PREFIX/NAME/`, NAME being the
    /// directory's name: a snapshot of its store and its summary. Returns
    /// where it went.
    pub async fn upload_run(&self, dir: &Path, name: &str) -> Result<RemoteUrl, RemoteError> {
        let target = self.url.run(name);
        let scratch = tempfile::tempdir().map_err(|source| RemoteError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let snapshot = scratch.path().join("results.sqlite");
        crate::store::snapshot(&results_path(dir), &snapshot)?;
        let summary = dir.join("summary.json");
        for (file, local) in STORED_FILES.iter().zip([snapshot, summary]) {
            if !local.is_file() {
                continue;
            }
            self.put_file(&local, &target, file).await?;
        }
        Ok(target)
    }

    async fn put_file(
        &self,
        local: &Path,
        target: &RemoteUrl,
        file: &str,
    ) -> Result<(), RemoteError> {
        use std::io::Read as _;
        let io = |source| RemoteError::Io {
            path: local.to_owned(),
            source,
        };
        let key = ObjectPath::from(format!("{}/{file}", target.prefix));
        let mut reader = std::fs::File::open(local).map_err(io)?;
        // In parts, as a multipart upload when large: a store of a big
        // shard never has to fit in memory.
        let mut writer = BufWriter::new(Arc::clone(&self.store), key);
        let failed = self.failed(target, "cannot upload the run");
        let mut buffer = vec![0u8; UPLOAD_CHUNK];
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(source) => {
                    let _ = writer.abort().await;
                    return Err(io(source));
                }
            };
            if let Err(e) = writer
                .put(bytes::Bytes::copy_from_slice(&buffer[..read]))
                .await
            {
                let _ = writer.abort().await;
                return Err(failed(e));
            }
        }
        writer.shutdown().await.map_err(|source| RemoteError::Io {
            path: PathBuf::from(target.run(file).to_string()),
            source,
        })
    }

    /// Whether a run is kept at `PREFIX/NAME/`.
    pub async fn has_run(&self, name: &str) -> Result<bool, RemoteError> {
        let target = self.url.run(name);
        let key = ObjectPath::from(format!("{}/{}", target.prefix, STORED_FILES[0]));
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.failed(&target, "cannot look for a run there")(e)),
        }
    }

    /// Every run kept under this location: the location itself if it is a
    /// run, else the runs directly or deeper under it, by name.
    pub async fn runs(&self) -> Result<Vec<RemoteUrl>, RemoteError> {
        let prefix =
            (!self.url.prefix.is_empty()).then(|| ObjectPath::from(self.url.prefix.as_str()));
        let mut listing = self.store.list(prefix.as_ref());
        let mut runs = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(self.failed(&self.url, "cannot list it"))?;
            let key = meta.location.as_ref();
            if let Some(dir) = key.strip_suffix(&format!("/{}", STORED_FILES[0])) {
                runs.push(RemoteUrl {
                    bucket: self.url.bucket.clone(),
                    prefix: dir.to_owned(),
                });
            } else if key == STORED_FILES[0] {
                runs.push(RemoteUrl {
                    bucket: self.url.bucket.clone(),
                    prefix: String::new(),
                });
            }
        }
        runs.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        Ok(runs)
    }

    /// Downloads the run at `run` (as `runs` lists them) into `dir`, which
    /// is created.
    pub async fn download_run(&self, run: &RemoteUrl, dir: &Path) -> Result<(), RemoteError> {
        std::fs::create_dir_all(dir).map_err(|source| RemoteError::Io {
            path: dir.to_owned(),
            source,
        })?;
        for file in STORED_FILES {
            let key = if run.prefix.is_empty() {
                ObjectPath::from(file)
            } else {
                ObjectPath::from(format!("{}/{file}", run.prefix))
            };
            let got = match self.store.get(&key).await {
                Ok(got) => got,
                // A run stopped before it wrote a summary has none.
                Err(object_store::Error::NotFound { .. }) if file != STORED_FILES[0] => continue,
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(RemoteError::NoRun(run.to_string()));
                }
                Err(e) => return Err(self.failed(run, "cannot download it")(e)),
            };
            let path = dir.join(file);
            let io = |source| RemoteError::Io {
                path: path.clone(),
                source,
            };
            let mut out = std::fs::File::create(&path).map_err(io)?;
            let mut stream = got.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(self.failed(run, "cannot download it"))?;
                std::io::Write::write_all(&mut out, &chunk).map_err(io)?;
            }
            out.sync_all().map_err(io)?;
        }
        Ok(())
    }
}

/// The name a run's directory gets when downloaded: the last segment of
/// its location.
pub fn run_name(run: &RemoteUrl) -> &str {
    run.prefix
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_junk_is_refused() {
        let url: RemoteUrl = "s3://results/study-1/".parse().expect("a location");
        assert_eq!(url.bucket, "results");
        assert_eq!(url.prefix, "study-1");
        assert_eq!(
            url.run("shard-1-of-3").to_string(),
            "s3://results/study-1/shard-1-of-3"
        );
        let root: RemoteUrl = "s3://results".parse().expect("a location");
        assert_eq!(root.run("r").to_string(), "s3://results/r");
        for junk in [
            "results/x",
            "s3://",
            "s3:///x",
            "s3://Results/x",
            "s3://b/../x",
            "s3://b/a//c",
            "gs://b/x",
        ] {
            assert!(junk.parse::<RemoteUrl>().is_err(), "{junk}");
        }
    }
}
