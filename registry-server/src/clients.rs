//! Who holds the server's connections, and how fast each client asks.
//!
//! A client is an IP address. The table counts its open connections
//! against the per-client and total caps and keeps its request-rate
//! bucket; both are checked under one lock, taken once per connection
//! and once per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::limits::ServeLimits;

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// The server holds `--max-connections` busy connections.
    Full,
    /// This client holds `--max-connections-per-client`.
    ClientFull,
}

pub(super) struct Clients {
    /// What connections' times are counted from, so that they compare.
    epoch: Instant,
    max_connections: usize,
    max_per_client: usize,
    /// Tokens a client gains per second, and the most it can hold.
    rate: f64,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    open: usize,
    /// Connections asked to close to make room, not closed yet: they hold
    /// their slot a moment longer, and a newcomer may use it meanwhile.
    shedding: usize,
    next_id: u64,
    connections: HashMap<u64, Arc<Activity>>,
    clients: HashMap<IpAddr, Client>,
}

struct Client {
    connections: usize,
    tokens: f64,
    refilled: Instant,
}

impl Clients {
    pub(super) fn new(limits: &ServeLimits) -> Self {
        Self {
            epoch: Instant::now(),
            max_connections: limits.max_connections,
            max_per_client: limits.max_connections_per_client,
            rate: f64::from(limits.requests_per_second),
            table: Mutex::new(Table::default()),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent between statements: a panic elsewhere
        // while it was held leaves nothing half-done.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection from `ip`. When every slot is taken,
    /// the connection idle the longest is asked to close and the newcomer
    /// takes its place: idle connections cannot starve the server.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let mut guard = self.table();
        let table = &mut *guard;
        let now = Instant::now();
        let held = table
            .clients
            .get(&ip)
            .map_or(0, |client| client.connections);
        if held >= self.max_per_client {
            return Err(Refused::ClientFull);
        }
        if table.open - table.shedding >= self.max_connections {
            let idlest = table
                .connections
                .values()
                .filter(|a| a.is_idle() && !a.shedding.load(Ordering::Relaxed))
                .min_by_key(|a| a.last_io_ms.load(Ordering::Relaxed))
                .ok_or(Refused::Full)?;
            idlest.shedding.store(true, Ordering::Relaxed);
            idlest.shed.notify_one();
            table.shedding += 1;
        }
        if table.clients.len() > 4 * self.max_connections {
            self.forget_quiet_clients(table, now);
        }
        let rate = self.rate;
        let client = table.clients.entry(ip).or_insert_with(|| Client {
            connections: 0,
            tokens: rate,
            refilled: now,
        });
        client.connections += 1;
        table.open += 1;
        let id = table.next_id;
        table.next_id += 1;
        let activity = Arc::new(Activity::new(self.epoch));
        table.connections.insert(id, Arc::clone(&activity));
        Ok(Slot {
            clients: Arc::clone(self),
            id,
            ip,
            activity,
        })
    }

    /// Takes one request from `ip`'s bucket, or says how long until the
    /// next one is allowed.
    pub(super) fn take_request(&self, ip: IpAddr) -> Result<(), Duration> {
        let mut table = self.table();
        let Some(client) = table.clients.get_mut(&ip) else {
            // Only a client with a connection asks; nothing to count against.
            return Ok(());
        };
        let now = Instant::now();
        let gained = now.duration_since(client.refilled).as_secs_f64() * self.rate;
        client.tokens = (client.tokens + gained).min(self.rate);
        client.refilled = now;
        if client.tokens >= 1.0 {
            client.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - client.tokens) / self.rate))
        }
    }

    /// Drops clients with no connection whose bucket has refilled: they
    /// would start afresh anyway. Bounds the table by the clients seen in
    /// the last second.
    fn forget_quiet_clients(&self, table: &mut Table, now: Instant) {
        let rate = self.rate;
        table.clients.retain(|_, client| {
            let refilled =
                client.tokens + now.duration_since(client.refilled).as_secs_f64() * rate >= rate;
            client.connections > 0 || !refilled
        });
    }

    fn release(&self, id: u64, ip: IpAddr) {
        let mut table = self.table();
        if let Some(activity) = table.connections.remove(&id) {
            table.open -= 1;
            if activity.shedding.load(Ordering::Relaxed) {
                table.shedding -= 1;
            }
        }
        if let Some(client) = table.clients.get_mut(&ip) {
            client.connections = client.connections.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        self.table().open
    }
}

/// One admitted connection's place; given back when dropped.
pub(super) struct Slot {
    clients: Arc<Clients>,
    id: u64,
    ip: IpAddr,
    pub(super) activity: Arc<Activity>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.clients.release(self.id, self.ip);
    }
}

/// What a connection is doing, as its reads, writes and requests tell.
pub(super) struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    /// Bytes arrived since the last answer: a request is on its way.
    read_since_answer: AtomicBool,
    /// Last byte read or written, in ms since `epoch`.
    last_io_ms: AtomicU64,
    shedding: AtomicBool,
    /// Asked to close to make room for a newcomer.
    pub(super) shed: Notify,
}

impl Activity {
    fn new(epoch: Instant) -> Self {
        let activity = Self {
            epoch,
            in_flight: AtomicUsize::new(0),
            read_since_answer: AtomicBool::new(false),
            last_io_ms: AtomicU64::new(0),
            shedding: AtomicBool::new(false),
            shed: Notify::new(),
        };
        activity.touch();
        activity
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io_ms.store(ms, Ordering::Relaxed);
    }

    pub(super) fn read(&self) {
        self.read_since_answer.store(true, Ordering::Relaxed);
        self.touch();
    }

    pub(super) fn wrote(&self) {
        self.touch();
    }

    pub(super) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn request_answered(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.read_since_answer.store(false, Ordering::Relaxed);
        self.touch();
    }

    /// No request in flight and none on its way.
    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && !self.read_since_answer.load(Ordering::Relaxed)
    }

    /// When the connection is idle past `timeout`, if nothing happens
    /// before.
    pub(super) fn idle_deadline(&self, timeout: Duration) -> Instant {
        let last = Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed));
        self.epoch + last + timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_client: usize, rate: u32) -> ServeLimits {
        ServeLimits {
            max_connections: max,
            max_connections_per_client: per_client,
            requests_per_second: rate,
            ..ServeLimits::default()
        }
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn a_client_over_its_cap_is_refused_and_another_is_not() {
        let clients = Arc::new(Clients::new(&limits(10, 2, 100)));
        let _a1 = clients.admit(A).expect("a slot");
        let a2 = clients.admit(A).expect("a slot");
        assert_eq!(clients.admit(A).err(), Some(Refused::ClientFull));
        let _b1 = clients.admit(B).expect("a slot");
        drop(a2);
        assert!(clients.admit(A).is_ok());
    }

    #[test]
    fn a_full_server_sheds_an_idle_connection_but_never_a_busy_one() {
        let clients = Arc::new(Clients::new(&limits(2, 10, 100)));
        let busy = clients.admit(A).expect("a slot");
        busy.activity.request_started();
        let sending = clients.admit(A).expect("a slot");
        sending.activity.read();
        assert_eq!(clients.admit(B).err(), Some(Refused::Full));
        sending.activity.request_started();
        sending.activity.request_answered();
        let newcomer = clients.admit(B).expect("a slot");
        assert!(sending.activity.shedding.load(Ordering::Relaxed));
        assert_eq!(clients.open(), 3);
        // The shed one is still closing: no second newcomer meanwhile.
        newcomer.activity.read();
        assert_eq!(clients.admit(B).err(), Some(Refused::Full));
        drop(sending);
        assert_eq!(clients.open(), 2);
    }

    #[test]
    fn the_request_rate_is_a_bucket_per_client() {
        let clients = Arc::new(Clients::new(&limits(10, 10, 3)));
        let _a = clients.admit(A).expect("a slot");
        let _b = clients.admit(B).expect("a slot");
        for _ in 0..3 {
            clients.take_request(A).expect("within the rate");
        }
        let wait = clients.take_request(A).expect_err("over the rate");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert!(clients.take_request(B).is_ok());
    }
}
