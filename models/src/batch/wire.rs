//! What a provider's batch API reuses of its live client: the request body
//! its live call would send and the reader of its live reply, so that a
//! batched call goes out and comes back exactly as a live one does.

use super::super::http::Provider;
use super::super::{ChatRequest, Completion, Model, ModelError};
use crucible_types::provenance::SentSampling;

/// Where a model's calls go: what its batch calls need to reach the same
/// host with the same key.
pub(crate) struct Endpoint<'a> {
    pub provider: &'static Provider,
    /// The live call's URL, from which each batch API's own URLs derive.
    pub live_url: &'a reqwest::Url,
    /// Never logged, stored or shown.
    pub api_key: Option<&'a str>,
    pub client: &'a reqwest::Client,
}

/// A provider client's request builder and reply reader, apart from
/// sending.
pub(crate) trait LiveWire: Model {
    /// The body of the live request for `request`, as JSON text, and the
    /// sampling it sends.
    fn request_body(&self, request: &ChatRequest<'_>)
    -> Result<(String, SentSampling), ModelError>;
    /// Reads the body of a successful live response.
    fn read_reply(&self, body: &[u8], sent: SentSampling) -> Result<Completion, ModelError>;
    fn endpoint(&self) -> Endpoint<'_>;
}

/// A body that would not serialize: no request the host builds can fail
/// so, but the error is named rather than assumed away.
pub(crate) fn unserializable(provider: &'static str, e: &serde_json::Error) -> ModelError {
    ModelError::Malformed {
        provider,
        message: format!("the request body could not be written: {e}"),
    }
}
