//! How much of the server one client, or all of them, may hold, and for
//! how long. Every limit has a default here and a `crucible registry
//! serve` flag (cli.rs), and the server logs them all when it starts.

use std::fmt;
use std::time::Duration;

/// A request's headers must be complete this long after the connection
/// starts waiting for them (hyper's header read timeout): a slowloris
/// client, trickling a header a byte at a time, is closed then.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection that has no request in flight and has sent nothing since
/// its last answer (or since it opened) is closed after this long.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// A request, its body included, must be answered within this long; a
/// slow upload gets 408 then.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections open at once, all clients together.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Connections open at once from one IP address.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 64;

/// Requests per second from one IP address, with a burst of as many.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 200;

#[derive(Debug, Clone)]
pub struct ServeLimits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    pub requests_per_second: u32,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
        }
    }
}

impl fmt::Display for ServeLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "header timeout {}, idle timeout {}, request timeout {}, \
             {} connections ({} per client), {} requests/s per client",
            humantime::format_duration(self.header_timeout),
            humantime::format_duration(self.idle_timeout),
            humantime::format_duration(self.request_timeout),
            self.max_connections,
            self.max_connections_per_client,
            self.requests_per_second,
        )
    }
}
