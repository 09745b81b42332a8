//! The write side: publishing and yanking, for owners with a token.
//!
//! The token is checked by `require_owner` before the request's body is
//! read, so an anonymous client cannot make the server buffer an upload,
//! let alone compile one.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use crucible_registry::{NewVersion, PackageName, Record, RegistryError, Version};
use serde::Deserialize;

use super::auth::{AuthError, AuthLock, AuthStore, TokenState};
use super::read::no_such_package;
use super::refusal::Refusal;
use super::{AppState, blocking};
use crucible_engine::packages::{self, PackageError};
use crucible_runtime::{LoadError, PluginSource};

/// How refusals name the uploaded component.
const UPLOAD: &str = "the uploaded component";

/// Longest `license` and `repository` accepted.
const MAX_LICENSE: usize = 200;
const MAX_REPOSITORY: usize = 2000;

/// The owner a request was authenticated as. Also put on the response, so
/// the request log can name who wrote.
#[derive(Debug, Clone)]
pub(super) struct Owner(pub String);

/// Refuses a write without a live token; otherwise runs the handler with
/// the token's `Owner`.
pub(super) async fn require_owner(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Result<Response, Refusal> {
    let token = bearer(request.headers())?;
    let auth = state.auth.clone();
    let verdict = blocking(move || auth.token_state(&token))
        .await?
        .map_err(auth_failure)?;
    let owner = match verdict {
        TokenState::Valid(owner) => Owner(owner),
        TokenState::Revoked(_) => {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "this token was revoked; ask the registry's admin for a new one",
            ));
        }
        TokenState::Unknown => {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "invalid token: this registry does not know it",
            ));
        }
    };
    request.extensions_mut().insert(owner.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(owner);
    Ok(response)
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Result<String, Refusal> {
    let missing = || {
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            "no token: publishing and yanking need `Authorization: Bearer TOKEN`",
        )
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token.to_owned())
}

#[derive(Debug, Deserialize)]
pub(super) struct PublishQuery {
    /// What the publisher declares the component to be; recorded without
    /// running it, and checked against its `describe` when a host loads it.
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    license: Option<String>,
    repository: Option<String>,
}

/// `PUT /api/v1/packages?name=NS/NAME&version=X.Y.Z[&description=..][&license=SPDX][&repository=URL]`, the component's
/// bytes as the body. Answers 201 with the new record.
pub(super) async fn publish(
    State(state): State<Arc<AppState>>,
    Extension(Owner(owner)): Extension<Owner>,
    query: Result<Query<PublishQuery>, QueryRejection>,
    request: Request,
) -> Result<impl IntoResponse, Refusal> {
    let Query(query) = query.map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let license = metadata("license", query.license, MAX_LICENSE)?;
    let repository = metadata("repository", query.repository, MAX_REPOSITORY)?;
    let declaration = packages::Declared {
        name: required("name", metadata("name", query.name, MAX_NAME)?)?,
        version: required("version", metadata("version", query.version, MAX_NAME)?)?,
        description: metadata("description", query.description, MAX_DESCRIPTION)?
            .unwrap_or_default(),
    };

    // A declared length over the limit is refused before reading anything;
    // an undeclared one is cut off by the body limit (`DefaultBodyLimit`)
    // as soon as it passes it.
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the component is over this registry's size limit of {} bytes",
                state.max_size
            ),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > state.max_size) {
        return Err(too_large());
    }
    let bytes = match Bytes::from_request(request, &state).await {
        Ok(bytes) => bytes,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
        Err(e) => return Err(Refusal::new(e.status(), e.body_text())),
    };
    if bytes.is_empty() {
        return Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the body is empty: send the component's bytes",
        ));
    }

    // Validation compiles the component and checks its contract, imports
    // and export types, running none of it; a few at a time, so uploads
    // cannot take every core with compiling.
    let new = {
        // Held by the blocking task itself, so a client that hangs up does
        // not free the slot while its component is still being checked.
        let permit = Arc::clone(&state.validations)
            .acquire_owned()
            .await
            .map_err(Refusal::internal)?;
        let runtime = Arc::clone(&state.runtime);
        let source = PluginSource {
            label: UPLOAD.to_owned(),
            bytes: bytes.to_vec(),
            expected_sha256: None,
            expected_identity: None,
        };
        blocking(move || {
            let checked =
                packages::declared_version(&runtime, &source, &declaration, license, repository)
                    .map_err(invalid_component);
            drop(permit);
            checked
        })
        .await??
    };

    let record = {
        let state = Arc::clone(&state);
        blocking(move || store(&state, &owner, &new, &bytes)).await??
    };
    Ok((StatusCode::CREATED, Json(record)))
}

/// Claims the namespace if it is free, and publishes; both under the auth
/// lock, so of two first publishes in one namespace, exactly one gets it.
fn store(state: &AppState, owner: &str, new: &NewVersion, bytes: &[u8]) -> Result<Record, Refusal> {
    let lock = state.auth.lock().map_err(auth_failure)?;
    let namespace = new.name.namespace();
    let claimed = match state
        .auth
        .namespace_owner(namespace)
        .map_err(auth_failure)?
    {
        Some(holder) if holder == owner => false,
        Some(holder) => return Err(not_yours(namespace, &holder, owner, "publish")),
        None => {
            if has_packages(state, namespace) {
                return Err(unowned(namespace));
            }
            state
                .auth
                .set_namespace_owner(&lock, namespace, owner)
                .map_err(auth_failure)?;
            true
        }
    };
    match state.registry.publish(new, bytes) {
        Ok(record) => {
            if claimed {
                tracing::info!("namespace `{namespace}` now belongs to `{owner}`");
            }
            Ok(record)
        }
        Err(e) => {
            if claimed {
                release(&state.auth, &lock, namespace);
            }
            Err(registry_failure(e, &new.name))
        }
    }
}

fn release(auth: &AuthStore, lock: &AuthLock, namespace: &str) {
    if let Err(e) = auth.remove_namespace(lock, namespace) {
        tracing::error!("cannot take back the claim on namespace `{namespace}`: {e}");
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct YankRequest {
    name: String,
    version: String,
    yanked: bool,
}

/// `POST /api/v1/yank` with `{"name", "version", "yanked"}`: sets the
/// yanked flag (false unyanks). Answers 200 with the record as it now is.
pub(super) async fn yank(
    State(state): State<Arc<AppState>>,
    Extension(Owner(owner)): Extension<Owner>,
    body: Result<Json<YankRequest>, JsonRejection>,
) -> Result<Json<Record>, Refusal> {
    let Json(body) = body.map_err(|e| Refusal::new(e.status(), e.body_text()))?;
    let unprocessable = |e: String| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, e);
    let name: PackageName = body
        .name
        .parse()
        .map_err(|e| unprocessable(format!("{e}")))?;
    let version: Version = body
        .version
        .parse()
        .map_err(|e| unprocessable(format!("invalid version `{}`: {e}", body.version)))?;
    let record = blocking(move || {
        let _lock = state.auth.lock().map_err(auth_failure)?;
        let namespace = name.namespace();
        match state
            .auth
            .namespace_owner(namespace)
            .map_err(auth_failure)?
        {
            Some(holder) if holder == owner => {}
            Some(holder) => return Err(not_yours(namespace, &holder, &owner, "yank")),
            None if has_packages(&state, namespace) => return Err(unowned(namespace)),
            None => return Err(no_such_package(&name)),
        }
        state
            .registry
            .yank(&name, &version, body.yanked)
            .map_err(|e| registry_failure(e, &name))
    })
    .await??;
    Ok(Json(record))
}

/// An optional one-line text field of a publish.
/// Longest declared name or version, and description, accepted.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2000;

fn required(what: &str, value: Option<String>) -> Result<String, Refusal> {
    value.ok_or_else(|| {
        Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{what}` is required: declare the component's name and version"),
        )
    })
}

fn metadata(what: &str, value: Option<String>, max: usize) -> Result<Option<String>, Refusal> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{what}` must be one line of at most {max} characters"),
        ));
    }
    Ok((!value.trim().is_empty()).then_some(value))
}

/// Whether the registry holds packages in `namespace`: possible without an
/// owner when they were published straight into the directory.
fn has_packages(state: &AppState, namespace: &str) -> bool {
    let dir = state.registry.root().join("index").join(namespace);
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

fn not_yours(namespace: &str, holder: &str, owner: &str, action: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        format!("namespace `{namespace}` belongs to `{holder}`; `{owner}` cannot {action} in it"),
    )
}

fn unowned(namespace: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        format!(
            "namespace `{namespace}` holds packages but has no owner; the registry's admin can \
             give it one (`crucible registry namespace assign`)"
        ),
    )
}

fn invalid_component(error: PackageError) -> Refusal {
    match error {
        PackageError::Load(LoadError::Read { .. } | LoadError::Cache { .. }) => {
            Refusal::internal(error)
        }
        PackageError::Load(_) | PackageError::Invalid { .. } => {
            Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, error)
        }
        other => Refusal::internal(other),
    }
}

fn registry_failure(error: RegistryError, name: &PackageName) -> Refusal {
    match error {
        RegistryError::AlreadyPublished { .. } => Refusal::new(StatusCode::CONFLICT, error),
        RegistryError::TooLarge { .. } => Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, error),
        RegistryError::Empty { .. } | RegistryError::BadContract { .. } => {
            Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, error)
        }
        // Its own message names the server's path.
        RegistryError::NoSuchPackage { .. } => no_such_package(name),
        RegistryError::NoSuchVersion { .. } => Refusal::not_found(error),
        other => Refusal::internal(other),
    }
}

fn auth_failure(error: AuthError) -> Refusal {
    Refusal::internal(error)
}
