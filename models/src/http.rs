//! What every HTTP model provider shares: resolving its base URL and key
//! from the spec and the environment, its client, and sending a request
//! with its failures named the same way.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use serde::Deserialize;

use super::retry_hint::requested_wait;
use super::secret::{self, redact};
use super::{ModelError, ModelSpec, SpecError};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A provider's defaults.
pub(super) struct Provider {
    pub name: &'static str,
    pub default_base_url: &'static str,
    /// Environment variable overriding the base URL for every model.
    pub base_url_env: &'static str,
    pub default_key_env: &'static str,
    /// The provider's own API host, which always needs a key; a compatible
    /// local server often wants none.
    pub official_host: &'static str,
    /// How a request carries the key.
    pub key_header: KeyHeader,
}

/// Where a provider wants its API key.
pub(super) enum KeyHeader {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// A header of the provider's own, e.g. `x-api-key`.
    Named(&'static str),
}

/// A model's resolved endpoint.
pub(super) struct Connection {
    pub base_url: String,
    pub official: bool,
    /// Never logged, stored or shown.
    pub api_key: Option<String>,
    pub client: reqwest::Client,
}

/// An operation's URL under a base URL that `Provider::connect` accepted,
/// parsed once so that no request pays for it.
pub(super) fn endpoint(id: &str, url: String) -> Result<reqwest::Url, SpecError> {
    reqwest::Url::parse(&url).map_err(|e| SpecError::BadBaseUrl {
        id: id.to_owned(),
        reason: e.to_string(),
        url,
    })
}

/// Where a model's requests and key would go, resolved from its spec and
/// the environment exactly as [`Provider::connect`] resolves them, so that
/// what the key policy vets is what is sent.
pub(super) struct Route {
    pub base_url: String,
    pub url: reqwest::Url,
    pub url_from: UrlFrom,
    /// The variable the key is read from.
    pub key_env: String,
    /// The spec named the variable (else it is the provider's own).
    pub key_env_from_spec: bool,
    /// The provider's own API host, over https.
    pub official: bool,
}

/// Who chose a model's base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UrlFrom {
    Spec,
    /// The provider's `*_BASE_URL` variable: the user's own choice.
    Env,
    Default,
}

impl Provider {
    pub fn route(&self, spec: &ModelSpec) -> Result<Route, SpecError> {
        let (base_url, url_from) = match &spec.base_url {
            Some(url) => (url.clone(), UrlFrom::Spec),
            None => match std::env::var(self.base_url_env)
                .ok()
                .filter(|s| !s.is_empty())
            {
                Some(url) => (url, UrlFrom::Env),
                None => (self.default_base_url.to_owned(), UrlFrom::Default),
            },
        };
        if let Some(c) = crucible_types::names::forbidden_char(&base_url) {
            return Err(SpecError::BadBaseUrl {
                id: spec.id.clone(),
                url: base_url.escape_debug().to_string(),
                reason: format!("it holds {}", crucible_types::names::describe(c)),
            });
        }
        let url = reqwest::Url::parse(&base_url).map_err(|e| SpecError::BadBaseUrl {
            id: spec.id.clone(),
            url: base_url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SpecError::BadBaseUrl {
                id: spec.id.clone(),
                url: base_url,
                reason: "the scheme must be http or https".into(),
            });
        }
        let official = url.scheme() == "https" && url.host_str() == Some(self.official_host);
        let (key_env, key_env_from_spec) = match &spec.api_key_env {
            Some(env) => (env.clone(), true),
            None => (self.default_key_env.to_owned(), false),
        };
        Ok(Route {
            base_url,
            url,
            url_from,
            key_env,
            key_env_from_spec,
            official,
        })
    }

    pub fn connect(&self, spec: &ModelSpec) -> Result<Connection, SpecError> {
        let Route {
            base_url,
            official,
            key_env,
            ..
        } = self.route(spec)?;
        let api_key = std::env::var(&key_env).ok().filter(|k| !k.is_empty());
        if let Some(key) = &api_key {
            secret::register(key);
        }
        if api_key.is_none() && official {
            return Err(SpecError::MissingKey {
                id: spec.id.clone(),
                env: key_env,
            });
        }
        let timeout = spec
            .timeout_secs
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        let client = shared_client(timeout).map_err(|e| SpecError::Client {
            id: spec.id.clone(),
            reason: e.to_string(),
        })?;
        Ok(Connection {
            base_url,
            official,
            api_key,
            client,
        })
    }

    /// Sends a request with the key, if any, where the provider wants it,
    /// and returns the body of a successful response. A failure names the
    /// provider, and the HTTP status with the provider's own message (the
    /// APIs answer `{"error": {"message": ...}}`) and the wait it asked
    /// for, if any; the key never appears in it, even where the provider
    /// quotes the request back.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        api_key: Option<&str>,
    ) -> Result<Vec<u8>, ModelError> {
        let request = match (api_key, &self.key_header) {
            (None, _) => request,
            (Some(key), KeyHeader::Bearer) => request.bearer_auth(key),
            (Some(key), KeyHeader::Named(header)) => request.header(*header, key),
        };
        self.exchange(request).await.map_err(redact)
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, ModelError> {
        let transport = |e: reqwest::Error| ModelError::Transport {
            provider: self.name,
            message: transport_message(&e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status.is_success() {
            // A body cut short fails here, as a transport error: worth
            // another try.
            let bytes = response.bytes().await.map_err(transport)?;
            return Ok(bytes.to_vec());
        }
        if status.is_redirection() {
            return Err(ModelError::Redirect {
                provider: self.name,
                status: status.as_u16(),
                location: redirect_target(response.headers()),
            });
        }
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport)?;
        let message = error_message(&bytes)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        Err(ModelError::Status {
            provider: self.name,
            status: status.as_u16(),
            message,
            retry_after: requested_wait(
                status.as_u16(),
                &headers,
                &bytes,
                std::time::SystemTime::now(),
            ),
        })
    }

    /// Reads a successful response's JSON. A body that does not read as
    /// a reply names the provider's own message when it carries one (a
    /// router may answer 200 with `{"error": {"message": ...}}`).
    pub fn parse<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, ModelError> {
        serde_json::from_slice(bytes).map_err(|e| ModelError::Malformed {
            provider: self.name,
            message: match error_message(bytes) {
                Some(message) => format!("the body is an error, not a reply: {message}"),
                None => e.to_string(),
            },
        })
    }
}

/// The provider's own message in an error body, `{"error": {"message"}}`
/// (OpenAI, Anthropic, Gemini and OpenRouter alike).
pub(super) fn error_message(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(bytes)
        .ok()
        .map(|b| b.error.message)
}

/// Where a redirect points: its host only, so that no query (nor anything
/// else the server put in the URL) reaches an error message.
fn redirect_target(headers: &reqwest::header::HeaderMap) -> String {
    let Some(location) = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return "no Location given".to_owned();
    };
    match reqwest::Url::parse(location) {
        Ok(url) => url.host_str().unwrap_or("a URL without a host").to_owned(),
        // A relative Location stays on the same host.
        Err(_) => "the same host, another path".to_owned(),
    }
}

/// One client per timeout for the whole process: models on one host (an
/// agent and its judge, say) then share one connection pool instead of
/// holding a connection each.
fn shared_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    static CLIENTS: OnceLock<Mutex<HashMap<Duration, reqwest::Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Mutex::default)
        .lock()
        // Only ever gains entries: a poisoned map is still sound.
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(client) = clients.get(&timeout) {
        return Ok(client.clone());
    }
    // Retrying is the resilient layer's job, with backoff and the
    // provider's hints. reqwest's own retry layer would also keep a copy of
    // every request body alive until its response arrives.
    // Nor does it follow redirects: a key in a header of the provider's own
    // (`x-api-key`, `x-goog-api-key`) would go with the request to
    // wherever a server pointed it.
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .retry(reqwest::retry::never())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    clients.insert(timeout, client.clone());
    Ok(client)
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

/// A transport error without the request's URL query or headers.
fn transport_message(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        // `Response::bytes` reports a body cut short as a decode error.
        "the response broke off"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}
