//! The registry server: `crucible registry serve --root DIR`.
//!
//! Reads are the registry's static layout, file for file, so that a client
//! reads a served registry and a static mirror of it the same way:
//!
//! ```text
//! GET  /config.json
//! GET  /index/NAMESPACE/NAME.jsonl
//! GET  /blobs/sha256/XX/SHA256
//! GET  /api/v1/search?q=TEXT              JSON array of records
//! ```
//!
//! Writes need `Authorization: Bearer TOKEN` (see `auth`):
//!
//! ```text
//! PUT  /api/v1/packages[?license=..&repository=..]   body: the component
//!      201 and the new record as JSON
//! POST /api/v1/yank   {"name": "ns/name", "version": "1.0.0", "yanked": true}
//!      200 and the record as it now is
//! ```
//!
//! A published component is checked as `crucible publish` checks it
//! (`packages::new_version`), and its name, version and description are
//! its own. Every refusal is a status and one line of plain text: 401 no,
//! unknown or revoked token; 403 another owner's namespace; 404 unknown
//! path, package or version; 409 a version already published; 413 over the
//! size limit; 422 not a valid component, or invalid metadata.
//!
//! Connections and requests are bounded (`limits`, `connection`): a
//! connection over the total cap gets 503, one over its client's cap 429,
//! both with `Retry-After` and closed; a request over its client's rate
//! 429 with `Retry-After`; a request not complete within the request
//! timeout 408. A connection whose headers do not arrive within the
//! header timeout, or idle past the idle timeout, is closed; when every
//! slot is taken, the connection idle the longest makes room.
//!
//! Nothing under `auth/` or `locks/` is ever served: only the routes above
//! exist, and their files are named by `crucible_registry::layout` from a
//! validated `PackageName` or `Checksum`, never from the request's path.

pub mod auth;
mod clients;
mod connection;
pub mod limits;
mod read;
mod refusal;
mod write;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use crucible_registry::LocalRegistry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use self::auth::AuthStore;
use self::limits::ServeLimits;
use self::refusal::Refusal;
use self::write::Owner;
use crucible_runtime::{PluginRuntime, RuntimeConfig};

pub use crucible_registry::local::DEFAULT_MAX_SIZE;

/// Where the server listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// Components validated at once.
const VALIDATIONS: usize = 2;

/// Body limit of the routes that take JSON.
const JSON_LIMIT: usize = 64 << 10;

pub struct ServeConfig {
    /// The registry directory; created if it has no `config.json` yet.
    pub root: PathBuf,
    pub listen: SocketAddr,
    /// Largest component accepted, in bytes.
    pub max_size: u64,
    /// The sandbox that validates uploads.
    pub runtime: RuntimeConfig,
    /// Timeouts, connection caps and request rates.
    pub limits: ServeLimits,
}

/// What every request handler shares.
pub(crate) struct AppState {
    registry: LocalRegistry,
    auth: AuthStore,
    runtime: Arc<PluginRuntime>,
    validations: Arc<Semaphore>,
    max_size: u64,
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(transparent)]
    Registry(#[from] crucible_registry::RegistryError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error(transparent)]
    Runtime(#[from] crucible_runtime::SetupError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: io::Error,
    },
}

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
}

impl Server {
    pub async fn bind(config: ServeConfig) -> Result<Self, BindError> {
        let registry = LocalRegistry::create(&config.root)?.with_max_size(config.max_size);
        let auth = AuthStore::open(registry.root())?;
        let runtime = PluginRuntime::new(config.runtime)?;
        let state = Arc::new(AppState {
            registry,
            auth,
            runtime: Arc::new(runtime),
            validations: Arc::new(Semaphore::new(VALIDATIONS)),
            max_size: config.max_size,
        });
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| BindError::Listen {
                    address: config.listen,
                    source,
                })?;
        Ok(Self {
            listener,
            router: router(state),
            limits: config.limits,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in
    /// flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        tracing::info!("limits: {}", self.limits);
        connection::serve(self.listener, self.router, self.limits, shutdown).await
    }
}

fn router(state: Arc<AppState>) -> Router {
    let body_limit = usize::try_from(state.max_size).unwrap_or(usize::MAX);
    let writes = Router::new()
        .route(
            "/api/v1/packages",
            put(write::publish).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route(
            "/api/v1/yank",
            post(write::yank).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            write::require_owner,
        ));
    Router::new()
        .route("/config.json", get(read::config))
        .route("/index/{namespace}/{file}", get(read::index))
        .route("/blobs/sha256/{prefix}/{hex}", get(read::blob))
        .route("/api/v1/search", get(read::search))
        .merge(writes)
        .fallback(read::unknown_path)
        .method_not_allowed_fallback(read::wrong_method)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// One line per request: method, path, status, owner (for writes), time.
/// Never the headers, which carry the token, nor the query.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(200).collect();
    let start = Instant::now();
    let response = next.run(request).await;
    let owner = response
        .extensions()
        .get::<Owner>()
        .map_or("-", |owner| owner.0.as_str());
    tracing::info!(
        "{method} {path:?} {} {owner} {:.1}ms",
        response.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Runs blocking work (files, locks, compiling) off the async threads.
async fn blocking<T, F>(work: F) -> Result<T, Refusal>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Refusal::internal(format!("a server task failed: {e}")))
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
