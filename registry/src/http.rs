//! A registry over HTTP(S): the read side is the static layout (see
//! `layout`) fetched with GET, so any static file host, CDN or object store
//! serving a registry directory is a read-only mirror; the write side is a
//! registry server's API (`PUT /api/v1/packages`, `POST /api/v1/yank`).
//!
//! The `Registry` trait is blocking, and the workspace's reqwest is async
//! only. Rather than turn on reqwest's `blocking` feature (a second client
//! stack, and a client that panics when dropped inside an async runtime,
//! where the host's resolver runs), each `HttpRegistry` owns a private
//! current-thread tokio runtime and blocks on it. Called from inside
//! another runtime, a request runs on a scoped helper thread instead, where
//! blocking is allowed; the runtime is shut down in the background on drop,
//! which is also allowed anywhere.
//!
//! Reads go through a `RegistryCache` when one is given: blobs are taken
//! from the cache first (they are content-addressed, so never stale, and
//! re-verified on every read), index files are always fetched afresh and
//! the copy kept for `--offline`, which reads only the cache and says which
//! file it lacks. Every blob is checked against its sha256 before it is
//! returned or cached. Bodies are size-capped, so a hostile server cannot
//! exhaust memory, and reads never follow a redirect from https to http.
//!
//! Writes never follow redirects at all, so the bearer token goes only to
//! the URL it was meant for. A refusal is shown as the server's one-line
//! reason, with the URL and HTTP status it came with.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Client, StatusCode, Url, redirect};
use semver::Version;
use serde::Serialize;

use crate::backend::{Registry, RegistryError};
use crate::cache::{CachedBlob, RegistryCache};
use crate::catalog::{ListPackages, PACKAGE_LIST, PackageList, newest_matching};
use crate::checksum::Checksum;
use crate::credentials::Token;
use crate::layout::{self, CONFIG, Config, FORMAT};
use crate::local::DEFAULT_MAX_SIZE;
use crate::name::PackageName;
use crate::record::{IndexFile, Record};
use crate::source::Source;

/// Largest index file (or package list) accepted from a server.
pub const MAX_INDEX_BYTES: u64 = 16 * 1024 * 1024;
/// Largest blob accepted from a server: well above what a registry accepts
/// by default, so that a server configured for larger components still
/// works, but bounded.
pub const MAX_BLOB_BYTES: u64 = 4 * DEFAULT_MAX_SIZE;
/// Largest response to a write (a record, or a refusal).
const MAX_REPLY_BYTES: u64 = 1024 * 1024;
/// A registry server's search: `?q=TEXT`, a JSON array of records.
const SEARCH_API: &str = "api/v1/search";
/// Longest refusal reason shown, in characters.
const MAX_REASON_CHARS: usize = 300;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Between two reads of one response: a stalled server fails, a slow
/// download of a large blob does not.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound on one whole request, uploads included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
const USER_AGENT: &str = concat!("crucible/", env!("CARGO_PKG_VERSION"));

/// Whether `text` names an HTTP(S) registry rather than a directory.
pub fn is_http_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// A registry base URL: `http` or `https`, a host, no credentials, query
/// or fragment. Returned with a path ending in `/`, ready for `join`.
pub fn parse_registry_url(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text.trim()).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme `{}` is not supported; a registry URL is http:// or https://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL holds credentials; give the token in CRUCIBLE_REGISTRY_TOKEN or the credentials file instead"
                .to_owned(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a registry URL has no query or fragment".to_owned());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// `url` as a registry is named in lockfiles and caches: without its
/// trailing `/`, so that `https://r.example` and `https://r.example/` are
/// one registry.
fn canonical(base: &Url) -> String {
    base.as_str().trim_end_matches('/').to_owned()
}

/// A registry served over HTTP(S).
pub struct HttpRegistry {
    /// The base URL, its path ending in `/`.
    base: Url,
    /// `base` without its trailing `/`: the registry's name.
    url: String,
    transport: Transport,
    cache: Option<RegistryCache>,
    offline: bool,
    /// Set once `config.json` was fetched and found readable.
    config_checked: OnceLock<()>,
}

impl fmt::Debug for HttpRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRegistry")
            .field("url", &self.url)
            .field("cache", &self.cache)
            .field("offline", &self.offline)
            .finish_non_exhaustive()
    }
}

impl HttpRegistry {
    /// A client for the registry at `url`. Nothing is fetched yet: the
    /// first read checks the registry's `config.json`.
    pub fn new(url: &str) -> Result<Self, RegistryError> {
        let base = parse_registry_url(url).map_err(|message| RegistryError::NotARegistry {
            path: PathBuf::from(url),
            message,
        })?;
        let transport = Transport::new(read_redirects()).map_err(|message| RegistryError::Io {
            path: PathBuf::from(url),
            action: "start an HTTP client for",
            source: io::Error::other(message),
        })?;
        Ok(Self {
            url: canonical(&base),
            base,
            transport,
            cache: None,
            offline: false,
            config_checked: OnceLock::new(),
        })
    }

    /// Keeps what is fetched in `cache`, and takes blobs from it.
    pub fn with_cache(mut self, cache: RegistryCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Uses only the cache, never the network.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The registry's URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn cache(&self) -> Option<&RegistryCache> {
        self.cache.as_ref()
    }

    /// The URL of the layout key `key`.
    fn key_url(&self, key: &str) -> Url {
        self.base
            .join(key)
            .unwrap_or_else(|e| unreachable!("layout keys are relative URL paths: {key}: {e}"))
    }

    /// GETs `key`: its bytes, or `None` if the server has no such file.
    /// Any other status than success is an error naming the URL, the
    /// status and the server's one-line reason.
    fn get(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, RegistryError> {
        let (url, status, body) = self.fetch(key, limit)?;
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(&url, status, &body));
        }
        Ok(Some(body))
    }

    /// GETs `key`, whatever the status: only a failure to talk to the
    /// server at all is an error.
    fn fetch(&self, key: &str, limit: u64) -> Result<(Url, StatusCode, Vec<u8>), RegistryError> {
        let url = self.key_url(key);
        let client = self.transport.client.clone();
        let target = url.clone();
        let reply = self.transport.run(async move {
            let response = client.get(target).send().await.map_err(describe)?;
            let status = response.status();
            let body = read_body(response, limit).await?;
            Ok::<_, String>((status, body))
        });
        match reply {
            Ok((status, body)) => Ok((url, status, body)),
            Err(message) => Err(RegistryError::Io {
                path: PathBuf::from(url.as_str()),
                action: "fetch",
                source: io::Error::other(message),
            }),
        }
    }

    /// Fetches `config.json` once, and refuses a server that has none or
    /// has a newer format.
    fn check_config(&self) -> Result<(), RegistryError> {
        if self.config_checked.get().is_some() {
            return Ok(());
        }
        let config_url = self.key_url(CONFIG);
        let not_a_registry = |message: String| RegistryError::NotARegistry {
            path: PathBuf::from(&self.url),
            message,
        };
        let Some(bytes) = self.get(CONFIG, MAX_INDEX_BYTES)? else {
            return Err(not_a_registry(format!("no {config_url}")));
        };
        let config: Config = serde_json::from_slice(&bytes)
            .map_err(|e| not_a_registry(format!("malformed {config_url}: {e}")))?;
        if config.format > FORMAT {
            return Err(RegistryError::UnsupportedFormat {
                path: PathBuf::from(config_url.as_str()),
                found: config.format,
                supported: FORMAT,
            });
        }
        let _ = self.config_checked.set(());
        Ok(())
    }

    /// The cache, which `--offline` cannot do without.
    fn offline_cache(&self) -> Result<&RegistryCache, RegistryError> {
        self.cache.as_ref().ok_or_else(|| RegistryError::Io {
            path: PathBuf::from(&self.url),
            action: "read offline",
            source: io::Error::other("there is no local cache directory (set CRUCIBLE_CACHE)"),
        })
    }

    fn offline_versions(&self, name: &PackageName) -> Result<Vec<Record>, RegistryError> {
        let cache = self.offline_cache()?;
        let path = cache.index_path(&self.url, name);
        let Some(text) = cache.index(&self.url, name)? else {
            return Err(RegistryError::Io {
                path,
                action: "read the cached index (--offline)",
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{name} from {} is not in the local cache; run once without --offline to fetch it",
                        self.url
                    ),
                ),
            });
        };
        let index = IndexFile::parse(&path.display().to_string(), name, &text)?;
        Ok(sorted(index))
    }

    fn offline_blob(&self, sha256: &Checksum) -> Result<Vec<u8>, RegistryError> {
        let cache = self.offline_cache()?;
        match cache.blob(sha256)? {
            CachedBlob::Hit(bytes) => Ok(bytes),
            CachedBlob::Corrupt { path, actual } => Err(RegistryError::ChecksumMismatch {
                path,
                expected: sha256.clone(),
                actual,
            }),
            CachedBlob::Miss => Err(RegistryError::Io {
                path: cache.blob_path(sha256),
                action: "read the cached blob (--offline)",
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "sha256 {sha256} is not in the local cache; run once without --offline to fetch it from {}",
                        self.url
                    ),
                ),
            }),
        }
    }
}

fn sorted(index: IndexFile) -> Vec<Record> {
    let mut records: Vec<Record> = index.records().cloned().collect();
    records.sort_by(|a, b| a.version.cmp(&b.version));
    records
}

impl Registry for HttpRegistry {
    fn source(&self) -> Source {
        Source::Registry(self.url.clone())
    }

    fn versions(&self, name: &PackageName) -> Result<Vec<Record>, RegistryError> {
        if self.offline {
            return self.offline_versions(name);
        }
        self.check_config()?;
        let key = layout::index_path(name);
        let Some(bytes) = self.get(&key, MAX_INDEX_BYTES)? else {
            return Err(RegistryError::NoSuchPackage {
                name: name.clone(),
                registry: self.source(),
            });
        };
        let url = self.key_url(&key);
        let text = String::from_utf8(bytes).map_err(|e| crate::record::RecordError {
            file: url.to_string(),
            line: 1,
            message: format!("not UTF-8: {e}"),
        })?;
        // Parsed before it is cached: the cache only ever holds an index
        // this crate can read.
        let index = IndexFile::parse(url.as_str(), name, &text)?;
        if let Some(cache) = &self.cache {
            cache.put_index(&self.url, name, &text)?;
        }
        Ok(sorted(index))
    }

    fn blob(&self, sha256: &Checksum) -> Result<Vec<u8>, RegistryError> {
        if self.offline {
            return self.offline_blob(sha256);
        }
        if let Some(cache) = &self.cache
            && let CachedBlob::Hit(bytes) = cache.blob(sha256)?
        {
            return Ok(bytes);
        }
        // A corrupt cached copy is replaced by the one fetched below.
        self.check_config()?;
        let key = layout::blob_path(sha256);
        let url = PathBuf::from(self.key_url(&key).as_str());
        let Some(bytes) = self.get(&key, MAX_BLOB_BYTES)? else {
            return Err(RegistryError::NoSuchBlob {
                sha256: sha256.clone(),
                path: url,
            });
        };
        let actual = Checksum::of(&bytes);
        if actual != *sha256 {
            return Err(RegistryError::ChecksumMismatch {
                path: url,
                expected: sha256.clone(),
                actual,
            });
        }
        if let Some(cache) = &self.cache {
            cache.put_blob(sha256, &bytes)?;
        }
        Ok(bytes)
    }

    /// A registry server answers `GET /api/v1/search?q=TEXT` itself; a
    /// static mirror is searched here, through its package list
    /// (`index/packages.json`). Offline, the cached index files are searched.
    fn search(&self, text: &str) -> Result<Vec<Record>, RegistryError> {
        if !self.offline {
            self.check_config()?;
            if let Some(found) = self.api_search(text)? {
                return Ok(found);
            }
        }
        let names = self.package_names()?;
        newest_matching(self, &names, text)
    }
}

impl HttpRegistry {
    /// The server's own search, or `None` if it has none (a static host:
    /// no such path, or something other than a JSON array of records).
    fn api_search(&self, text: &str) -> Result<Option<Vec<Record>>, RegistryError> {
        let mut key = String::from(SEARCH_API);
        key.push('?');
        key.push_str(
            &reqwest::Url::parse_with_params("http://x/", [("q", text)])
                .ok()
                .and_then(|u| u.query().map(str::to_owned))
                .unwrap_or_default(),
        );
        let (url, status, body) = self.fetch(&key, MAX_INDEX_BYTES)?;
        // A static host has no such path, or refuses the query or method.
        if status.is_client_error() {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(&url, status, &body));
        }
        Ok(serde_json::from_slice::<Vec<Record>>(&body).ok())
    }

    /// The names in `index/packages.json`, or `None` if it is not served.
    fn package_list(&self) -> Result<Option<Vec<PackageName>>, RegistryError> {
        let Some(bytes) = self.get(PACKAGE_LIST, MAX_INDEX_BYTES)? else {
            return Ok(None);
        };
        let list: PackageList = serde_json::from_slice(&bytes).map_err(|e| RegistryError::Io {
            path: PathBuf::from(self.key_url(PACKAGE_LIST).as_str()),
            action: "list the packages",
            source: io::Error::other(format!("malformed: {e}")),
        })?;
        Ok(Some(list.packages))
    }
}

impl ListPackages for HttpRegistry {
    /// Online: the registry's `index/packages.json`; failing that, the
    /// names a registry server's search lists (which leaves out packages
    /// whose every version is yanked: serve the package list to mirror
    /// those too). Offline: the packages whose index is cached.
    fn package_names(&self) -> Result<Vec<PackageName>, RegistryError> {
        if self.offline {
            return self.offline_cache()?.cached_packages(&self.url);
        }
        self.check_config()?;
        let mut names = match self.package_list()? {
            Some(names) => names,
            None => match self.api_search("")? {
                Some(found) => found.into_iter().map(|r| r.name).collect(),
                None => {
                    return Err(RegistryError::Io {
                        path: PathBuf::from(self.key_url(PACKAGE_LIST).as_str()),
                        action: "list the packages",
                        source: io::Error::other(
                            "the registry publishes no package list and has no search API, so it cannot be searched or mirrored (a package can still be resolved by name)",
                        ),
                    });
                }
            },
        };
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Publishes the component `bytes` to the registry server at `url`
/// (`PUT /api/v1/packages`), which inspects it, computes its sha256 and
/// returns the new record. `license` and `repository` are passed as query
/// parameters.
/// What a publisher declares about the component it uploads. The server
/// records it without running the component; a host loading the package
/// checks it against the component's own description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub description: &'a str,
}

pub fn publish_http(
    url: &str,
    token: &Token,
    bytes: &[u8],
    declaration: Declaration<'_>,
    license: Option<&str>,
    repository: Option<&str>,
) -> Result<Record, ClientError> {
    let base = parse_registry_url(url).map_err(|message| ClientError::BadUrl {
        url: url.to_owned(),
        message,
    })?;
    let endpoint = base
        .join("api/v1/packages")
        .unwrap_or_else(|e| unreachable!("a relative path joins: {e}"));
    let mut query: Vec<(&str, &str)> = vec![
        ("name", declaration.name),
        ("version", declaration.version),
        ("description", declaration.description),
    ];
    if let Some(license) = license {
        query.push(("license", license));
    }
    if let Some(repository) = repository {
        query.push(("repository", repository));
    }
    let transport =
        Transport::new(redirect::Policy::none()).map_err(|message| ClientError::Transport {
            url: endpoint.to_string(),
            message,
        })?;
    let request = transport
        .client
        .put(endpoint.clone())
        .query(&query)
        .bearer_auth(token.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/wasm")
        .body(bytes.to_vec());
    let body = send_write(&transport, &endpoint, request)?;
    serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
        url: endpoint.to_string(),
        message: format!("the reply is not a record: {e}"),
    })
}

/// Sets the `yanked` flag of `name@version` on the registry server at `url`
/// (`POST /api/v1/yank`). Returns the record as it now is, if the server
/// sent it back.
pub fn yank_http(
    url: &str,
    token: &Token,
    name: &PackageName,
    version: &Version,
    yanked: bool,
) -> Result<Option<Record>, ClientError> {
    #[derive(Serialize)]
    struct Yank<'a> {
        name: &'a PackageName,
        version: &'a Version,
        yanked: bool,
    }
    let base = parse_registry_url(url).map_err(|message| ClientError::BadUrl {
        url: url.to_owned(),
        message,
    })?;
    let endpoint = base
        .join("api/v1/yank")
        .unwrap_or_else(|e| unreachable!("a relative path joins: {e}"));
    let transport =
        Transport::new(redirect::Policy::none()).map_err(|message| ClientError::Transport {
            url: endpoint.to_string(),
            message,
        })?;
    let request = transport
        .client
        .post(endpoint.clone())
        .bearer_auth(token.expose())
        .json(&Yank {
            name,
            version,
            yanked,
        });
    let body = send_write(&transport, &endpoint, request)?;
    Ok(serde_json::from_slice(&body).ok())
}

fn send_write(
    transport: &Transport,
    endpoint: &Url,
    request: reqwest::RequestBuilder,
) -> Result<Vec<u8>, ClientError> {
    let (status, body) = transport
        .run(async move {
            let response = request.send().await.map_err(describe)?;
            let status = response.status();
            let body = read_body(response, MAX_REPLY_BYTES).await?;
            Ok::<_, String>((status, body))
        })
        .map_err(|message| ClientError::Transport {
            url: endpoint.to_string(),
            message,
        })?;
    if !status.is_success() {
        return Err(ClientError::Refused {
            url: endpoint.to_string(),
            status: status_text(status),
            reason: one_line_reason(status, &body),
        });
    }
    Ok(body)
}

/// Why a write to a registry server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: not a registry URL: {message}")]
    BadUrl { url: String, message: String },
    /// The server's refusal: its one-line reason, as it gave it.
    #[error("{url}: HTTP {status}: {reason}")]
    Refused {
        url: String,
        /// `403 Forbidden`
        status: String,
        reason: String,
    },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: unexpected reply: {message}")]
    BadResponse { url: String, message: String },
}

/// A reqwest client and the private runtime that drives it.
struct Transport {
    client: Client,
    /// Always `Some` until drop.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Transport {
    fn new(redirects: redirect::Policy) -> Result<Self, String> {
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(redirects)
            .build()
            .map_err(describe)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        Ok(Self {
            client,
            runtime: Some(runtime),
        })
    }

    /// Runs `future` to completion on the private runtime. Inside another
    /// runtime, where blocking the thread is not allowed, it blocks a
    /// scoped helper thread instead.
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let runtime = self
            .runtime
            .as_ref()
            .unwrap_or_else(|| unreachable!("the runtime lives until drop"));
        if tokio::runtime::Handle::try_current().is_err() {
            return runtime.block_on(future);
        }
        std::thread::scope(
            |scope| match scope.spawn(|| runtime.block_on(future)).join() {
                Ok(output) => output,
                Err(panic) => std::panic::resume_unwind(panic),
            },
        )
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context;
        // shutting it down in the background does not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Reads follow up to 5 redirects (a CDN may use them), never from https
/// to http.
fn read_redirects() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let downgrade = attempt.previous().iter().any(|url| url.scheme() == "https")
            && attempt.url().scheme() != "https";
        if downgrade {
            attempt.error("refusing a redirect from https to http")
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// The body, refused past `limit` bytes.
async fn read_body(mut response: reqwest::Response, limit: u64) -> Result<Vec<u8>, String> {
    if let Some(length) = response.content_length()
        && length > limit
    {
        return Err(format!(
            "the response is {length} bytes, over the limit of {limit}"
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        body.extend_from_slice(&chunk);
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > limit {
            return Err(format!("the response is over the limit of {limit} bytes"));
        }
    }
    Ok(body)
}

/// A reqwest error and its causes on one line, without the URL (the
/// caller names it once).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

fn status_error(url: &Url, status: StatusCode, body: &[u8]) -> RegistryError {
    RegistryError::Io {
        path: PathBuf::from(url.as_str()),
        action: "fetch",
        source: io::Error::other(format!(
            "HTTP {}: {}",
            status_text(status),
            one_line_reason(status, body)
        )),
    }
}

/// `404 Not Found`
fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The first non-blank line of a refusal's body, bounded and with control
/// characters escaped; the status's own reason when the body says nothing.
fn one_line_reason(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(line) => {
            let mut shown: String = line
                .chars()
                .take(MAX_REASON_CHARS)
                .flat_map(|c| {
                    if c.is_control() {
                        c.escape_default().collect::<Vec<_>>()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            if line.chars().count() > MAX_REASON_CHARS {
                shown.push_str("...");
            }
            shown
        }
        None => status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_urls_are_checked_and_normalized() {
        let url = parse_registry_url("https://r.example/reg").expect("valid");
        assert_eq!(url.as_str(), "https://r.example/reg/");
        assert_eq!(canonical(&url), "https://r.example/reg");
        let root = parse_registry_url("http://127.0.0.1:8080/").expect("valid");
        assert_eq!(canonical(&root), "http://127.0.0.1:8080");
        for (bad, expected) in [
            ("ftp://r.example", "scheme `ftp`"),
            ("https://user:pw@r.example", "credentials"),
            ("https://r.example/?a=b", "no query"),
            ("reg", "not a valid URL"),
        ] {
            let err = parse_registry_url(bad).expect_err(bad);
            assert!(err.contains(expected), "{bad}: {err}");
            assert!(!err.contains("pw"), "{err}");
        }
        assert!(is_http_url("HTTPS://x") && is_http_url("http://x"));
        assert!(!is_http_url("reg") && !is_http_url("./http://x"));
    }

    #[test]
    fn refusal_reasons_are_one_bounded_line() {
        let status = StatusCode::FORBIDDEN;
        assert_eq!(
            one_line_reason(status, b"\n namespace `x` belongs to another owner \nmore"),
            "namespace `x` belongs to another owner"
        );
        assert_eq!(one_line_reason(status, b""), "forbidden");
        assert_eq!(one_line_reason(status, b"a\x1bb"), "a\\u{1b}b");
        let long = "x".repeat(1000);
        assert_eq!(
            one_line_reason(status, long.as_bytes()).len(),
            MAX_REASON_CHARS + 3
        );
        assert_eq!(status_text(status), "403 Forbidden");
    }
}
