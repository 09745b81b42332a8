//! The read side: the registry's static layout, file for file, and search.
//!
//! A file path is only ever built by `crucible_registry::layout` from a
//! validated `PackageName` or `Checksum`; the request's path is matched
//! by the router and its segments validated, never joined to the root.

use std::io;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, body::Bytes};
use crucible_registry::layout::{self, CONFIG};
use crucible_registry::{Checksum, PackageName, Record, Registry};
use serde::Deserialize;

use super::refusal::Refusal;
use super::{AppState, blocking};

/// Index files change (appends, yanks); blobs never do.
const INDEX_CACHE: &str = "no-cache";
const BLOB_CACHE: &str = "public, max-age=31536000, immutable";

/// `GET /config.json`
pub(super) async fn config(State(state): State<Arc<AppState>>) -> Result<Response, Refusal> {
    let bytes = read_key(&state, CONFIG)
        .await?
        .ok_or_else(|| Refusal::internal(format!("{CONFIG} is missing from the registry")))?;
    Ok(file(bytes, "application/json", INDEX_CACHE))
}

/// `GET /index/{namespace}/{name}.jsonl`
pub(super) async fn index(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Refusal> {
    let Ok(Path((namespace, file_name))) = path else {
        return Err(not_a_registry_path());
    };
    let name = file_name
        .strip_suffix(".jsonl")
        .and_then(|name| PackageName::new(&namespace, name).ok())
        .ok_or_else(not_a_registry_path)?;
    let bytes = read_key(&state, &layout::index_path(&name))
        .await?
        .ok_or_else(|| no_such_package(&name))?;
    Ok(file(bytes, "application/x-ndjson", INDEX_CACHE))
}

/// `GET /blobs/sha256/{first two hex}/{hex}`. The bytes are served as
/// stored, as a static host would: the client checks them against the
/// sha256 it asked for.
pub(super) async fn blob(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Refusal> {
    let Ok(Path((prefix, hex))) = path else {
        return Err(not_a_registry_path());
    };
    // Exactly the layout's spelling: lowercase, and the right fan-out.
    let sha256 = hex
        .parse::<Checksum>()
        .ok()
        .filter(|sum| sum.as_str() == hex && hex.get(..2) == Some(prefix.as_str()))
        .ok_or_else(not_a_registry_path)?;
    let bytes = read_key(&state, &layout::blob_path(&sha256))
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no blob with sha256 {sha256}")))?;
    Ok(file(bytes, "application/octet-stream", BLOB_CACHE))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /api/v1/search?q=TEXT`: the newest non-yanked record of every
/// package whose name or description contains TEXT (case-insensitive; no
/// `q` lists every package), as a JSON array of records sorted by name.
pub(super) async fn search(
    State(state): State<Arc<AppState>>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<Record>>, Refusal> {
    let Query(query) = query.map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let registry = state.registry.clone();
    let found = blocking(move || registry.search(&query.q)).await?;
    Ok(Json(found.map_err(Refusal::internal)?))
}

/// Every path the router does not know.
pub(super) async fn unknown_path() -> Refusal {
    not_a_registry_path()
}

/// A known path with a method it does not take.
pub(super) async fn wrong_method() -> Refusal {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    )
}

fn not_a_registry_path() -> Refusal {
    Refusal::not_found(
        "not found: the registry serves /config.json, /index/NAMESPACE/NAME.jsonl, \
         /blobs/sha256/XX/SHA256 and /api/v1/...",
    )
}

pub(super) fn no_such_package(name: &PackageName) -> Refusal {
    Refusal::not_found(format!("no package `{name}` in this registry"))
}

/// The file at layout key `key`, or `None` if there is none.
async fn read_key(state: &AppState, key: &str) -> Result<Option<Vec<u8>>, Refusal> {
    // Keys are `/`-separated and built from validated parts only.
    let path = key
        .split('/')
        .fold(state.registry.root().to_owned(), |path, part| {
            path.join(part)
        });
    let read = {
        let path = path.clone();
        blocking(move || {
            crucible_registry::input_file::read(&path, crucible_registry::input_file::BLOB)
        })
        .await?
    };
    match read {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Refusal::internal(format!(
            "{}: cannot read: {e}",
            path.display()
        ))),
    }
}

fn file(bytes: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        Bytes::from(bytes),
    )
        .into_response()
}
