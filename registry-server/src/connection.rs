//! The server's own accept loop: `axum::serve` has no connection caps and
//! no header or idle timeouts, so connections are served here with
//! hyper's HTTP/1 builder (its header read timeout), counted per client
//! (`clients`), closed when idle, and every request is rate-limited and
//! bounded in time before the router sees it.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::clients::{Activity, Clients, Refused, Slot};
use super::limits::ServeLimits;
use super::refusal::Refusal;

/// Refused connections given a moment to read their 503 or 429 before
/// the close, at most this many at once; beyond, they are just closed.
const LINGERING_REFUSALS: usize = 256;
const LINGER: Duration = Duration::from_millis(500);

/// Serves `router` on `listener` until `shutdown` completes, then waits
/// for the requests in flight.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let clients = Arc::new(Clients::new(&limits));
    let limits = Arc::new(limits);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let lingering = Arc::new(Semaphore::new(LINGERING_REFUSALS));
    let (close_tx, close_rx) = watch::channel(());
    let mut refusals = RefusalLog::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = peer.ip().to_canonical();
        match clients.admit(ip) {
            Ok(slot) => {
                let connection = Connection {
                    http: http.clone(),
                    router: router.clone(),
                    clients: Arc::clone(&clients),
                    limits: Arc::clone(&limits),
                    ip,
                    close: close_rx.clone(),
                };
                tokio::spawn(connection.serve(stream, slot));
            }
            Err(refused) => {
                refusals.note(refused, ip, &limits);
                refuse(stream, refused, &limits, &lingering);
            }
        }
    }
    drop(listener);
    drop(close_rx);
    close_tx.send_replace(());
    // Every connection holds a receiver until it is done.
    close_tx.closed().await;
    Ok(())
}

/// A failed accept is the client's (it hung up) or a lack of file
/// descriptors: the loop goes on, after a pause in the second case so
/// as not to spin.
async fn accept_failed(e: &io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!("cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// One warning a second at most, with the count since the last, so that
/// a flood does not flood the log too.
#[derive(Default)]
struct RefusalLog {
    last: Option<Instant>,
    since: u64,
}

impl RefusalLog {
    fn note(&mut self, refused: Refused, ip: IpAddr, limits: &ServeLimits) {
        self.since += 1;
        if self
            .last
            .is_some_and(|last| last.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        tracing::warn!(
            "refused {} connection(s), the last from {ip}: {}",
            self.since,
            reason(refused, limits)
        );
        self.last = Some(Instant::now());
        self.since = 0;
    }
}

fn reason(refused: Refused, limits: &ServeLimits) -> String {
    match refused {
        Refused::Full => format!(
            "the server holds its {} busy connections (--max-connections); retry shortly",
            limits.max_connections
        ),
        Refused::ClientFull => format!(
            "this client holds {} connections, its limit (--max-connections-per-client); \
             close some or wait for them to finish",
            limits.max_connections_per_client
        ),
    }
}

/// Answers a refused connection with a 503 (server full) or 429 (client
/// over its cap), `Retry-After: 1`, and closes it, without reading its
/// request. The answer fits in the empty send buffer, so the one
/// non-blocking write suffices.
fn refuse(stream: TcpStream, refused: Refused, limits: &ServeLimits, lingering: &Arc<Semaphore>) {
    let status = match refused {
        Refused::Full => "503 Service Unavailable",
        Refused::ClientFull => "429 Too Many Requests",
    };
    let text = reason(refused, limits);
    let answer = format!(
        "HTTP/1.1 {status}\r\nretry-after: 1\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    if stream.try_write(answer.as_bytes()).is_err() {
        return;
    }
    // Closing a socket with unread input resets it, and a reset can
    // overtake the answer: read the request away for a moment first.
    let Ok(permit) = Arc::clone(lingering).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let mut sink = [0u8; 4096];
        let drain = async {
            use tokio::io::AsyncReadExt;
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
    });
}

struct Connection {
    http: http1::Builder,
    router: Router,
    clients: Arc<Clients>,
    limits: Arc<ServeLimits>,
    ip: IpAddr,
    close: watch::Receiver<()>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream, slot: Slot) {
        let activity = Arc::clone(&slot.activity);
        let io = TokioIo::new(Watched {
            stream,
            activity: Arc::clone(&activity),
        });
        let service = Guarded {
            router: TowerToHyperService::new(self.router.clone()),
            clients: Arc::clone(&self.clients),
            ip: self.ip,
            activity: Arc::clone(&activity),
            timeout: self.limits.request_timeout,
        };
        let connection = self.http.serve_connection(io, service);
        tokio::pin!(connection);
        let idle_timeout = self.limits.idle_timeout;
        let mut closing = false;
        loop {
            let idle_deadline = activity.idle_deadline(idle_timeout);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!("connection from {}: {e}", self.ip);
                    }
                    break;
                }
                () = tokio::time::sleep_until(idle_deadline.into()), if !closing => {
                    // Dropping the connection closes it; only when nothing
                    // is asked or on its way is that safe.
                    if activity.is_idle() && Instant::now() >= activity.idle_deadline(idle_timeout) {
                        break;
                    }
                }
                () = activity.shed.notified(), if !closing => {
                    if activity.is_idle() {
                        break;
                    }
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = self.close.changed(), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
        drop(slot);
    }
}

/// The connection's socket, telling its `Activity` of every byte.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The router behind the per-client request rate and the request
/// timeout.
struct Guarded {
    router: TowerToHyperService<Router>,
    clients: Arc<Clients>,
    ip: IpAddr,
    activity: Arc<Activity>,
    timeout: Duration,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl Service<Request<Incoming>> for Guarded {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Answer {
        let in_flight = InFlight::new(Arc::clone(&self.activity));
        if let Err(wait) = self.clients.take_request(self.ip) {
            let seconds = wait.as_secs() + 1;
            let mut response = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "over this client's request rate (--max-requests-per-second); retry in {seconds}s"
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            drop(in_flight);
            return Box::pin(std::future::ready(Ok(response)));
        }
        let answer = self.router.call(request);
        let timeout = self.timeout;
        Box::pin(async move {
            let _in_flight = in_flight;
            match tokio::time::timeout(timeout, answer).await {
                Ok(answer) => answer,
                Err(_) => Ok(timed_out(timeout)),
            }
        })
    }
}

fn timed_out(timeout: Duration) -> Response<Body> {
    let mut response = Refusal::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request was not complete within {} (--request-timeout); send it faster",
            humantime::format_duration(timeout)
        ),
    )
    .into_response();
    // The rest of a slow upload is not worth reading.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request between its head and its answer; counted as in flight even
/// when hyper drops it half-way.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.request_started();
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_answered();
    }
}
