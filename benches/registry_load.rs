//! The registry server under load, on 127.0.0.1: requests/s and latency
//! of index and blob GETs from many clients, first alone, then while 100
//! slowloris connections and an idle flood (20,000 connections if the
//! file-descriptor limit allows) are held against it; and how long the
//! slowloris connections lasted. Prints each figure beside its target.
//!
//! The server runs in this process (`crucible_registry_server`), on a copy of the
//! bundled suite's registry. Every client is 127.0.0.1, one IP address, so
//! the per-client connection cap and request rate are raised out of the
//! way; the total connection cap, the header and idle timeouts are the
//! ones measured.
//!
//! Run with `make bench` (or `cargo bench -p crucible --bench registry_load`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crucible_engine::plugin::RuntimeConfig;
use crucible_registry_server::limits::ServeLimits;
use crucible_registry_server::{DEFAULT_MAX_SIZE, ServeConfig, Server};
use crucible_test_support::guests::workspace_root;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 32;
const PHASE: Duration = Duration::from_secs(3);
const SLOWLORIS: usize = 100;
const IDLE_WANTED: usize = 20_000;
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// Targets: under attack, at least half the unloaded rate, a p99 under
/// 50 ms, and every slowloris dropped within the header timeout plus 1 s.
const LOADED_SHARE: f64 = 0.5;
const P99: Duration = Duration::from_millis(50);
const DROP_SLACK: Duration = Duration::from_secs(1);

fn main() {
    let fd_limit = raise_fd_limit();
    // Each idle connection costs this process one descriptor and the server
    // at most one; keep 2,000 for everything else.
    let idle = IDLE_WANTED.min(
        usize::try_from(fd_limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(2_000),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench(idle, fd_limit));
}

/// Raises the soft limit on open files to the hard one (at most 65,536);
/// the limit now in force.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit/setrlimit to use.
    #[allow(unsafe_code)]
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        let wanted = limit.rlim_max.min(65_536);
        if wanted > limit.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = wanted;
            }
        }
    }
    limit.rlim_cur
}

async fn bench(idle: usize, fd_limit: u64) {
    let root = tempfile::tempdir().expect("a temporary directory");
    copy_tree(&workspace_root().join("suites/registry"), root.path());
    let index = "/index/agentic-misalignment/blackmail.jsonl".to_owned();
    let blob = {
        let text = std::fs::read_to_string(
            root.path()
                .join("index/agentic-misalignment/blackmail.jsonl"),
        )
        .expect("the index");
        let record: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a record")).expect("JSON");
        let hex = record["sha256"].as_str().expect("a sha256").to_owned();
        format!("/blobs/sha256/{}/{hex}", &hex[..2])
    };
    let limits = ServeLimits {
        header_timeout: HEADER_TIMEOUT,
        max_connections_per_client: 1_000_000,
        requests_per_second: 1_000_000,
        ..ServeLimits::default()
    };
    println!(
        "registry server on 127.0.0.1: {CLIENTS} clients, {}s a phase; limits: {limits}",
        PHASE.as_secs()
    );
    println!("(per-client caps raised: every client here is 127.0.0.1)");
    let server = Server::bind(ServeConfig {
        root: root.path().to_owned(),
        listen: "127.0.0.1:0".parse().expect("an address"),
        max_size: DEFAULT_MAX_SIZE,
        runtime: RuntimeConfig::default(),
        limits: limits.clone(),
    })
    .await
    .expect("the server binds");
    let addr = server.local_addr().expect("its address");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.run(async {
        let _ = stop_rx.await;
    }));
    let targets = Arc::new([index, blob]);

    let alone = load(addr, &targets).await;
    alone.print("GETs, server alone");

    // The attack: slowloris connections trickling a header, and the flood.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let slow: Vec<_> = (0..SLOWLORIS)
        .map(|_| tokio::spawn(slowloris(addr, Arc::clone(&stop))))
        .collect();
    let (flood, refused) = idle_flood(addr, idle).await;
    println!(
        "idle flood: {idle} connections opened (fd limit {fd_limit}), {refused} answered 503 at once; \
         the rest held by the client"
    );
    let attacked = load(addr, &targets).await;
    attacked.print("GETs, under slowloris + idle flood");
    let mut lasted = Vec::new();
    for task in slow {
        if let Ok(Some(d)) = task.await {
            lasted.push(d);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let still_open = flood_still_open(flood).await;
    let elapsed = started.elapsed();

    let share = attacked.rate / alone.rate;
    verdict(
        "GETs/s under attack, share of alone",
        format!("{:.0}%", share * 100.0),
        format!(">= {:.0}%", LOADED_SHARE * 100.0),
        share >= LOADED_SHARE,
    );
    verdict(
        "p99 latency under attack",
        format!("{:.2} ms", ms(attacked.p99)),
        format!("< {} ms", P99.as_millis()),
        attacked.p99 < P99,
    );
    let longest = lasted.iter().max().copied().unwrap_or(Duration::MAX);
    verdict(
        "slowloris dropped, the last after",
        format!(
            "{:.2} s ({} of {SLOWLORIS})",
            longest.as_secs_f64(),
            lasted.len()
        ),
        format!("<= {:.0} s", (HEADER_TIMEOUT + DROP_SLACK).as_secs_f64()),
        lasted.len() == SLOWLORIS && longest <= HEADER_TIMEOUT + DROP_SLACK,
    );
    let held = limits.max_connections;
    verdict(
        "idle flood connections the server still held",
        format!(
            "{still_open} of {idle} after {:.1} s",
            elapsed.as_secs_f64()
        ),
        format!("<= {held} (--max-connections)"),
        still_open <= held,
    );
    let _ = stop_tx.send(());
    let _ = served.await;
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
    requests: usize,
    failures: usize,
}

impl Figures {
    fn print(&self, label: &str) {
        println!(
            "{label:<40} {:>8.0} req/s   p50 {:.2} ms   p99 {:.2} ms   ({} requests, {} failed)",
            self.rate,
            ms(self.p50),
            ms(self.p99),
            self.requests,
            self.failures
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(label: &str, figure: String, target: String, pass: bool) {
    let mark = if pass { "PASS" } else { "MISS" };
    println!("{label:<46} {figure:<28} target {target:<30} {mark}");
}

/// `CLIENTS` keep-alive clients asking in turn for the index and the blob
/// for `PHASE`, each on a fresh connection at the start.
async fn load(addr: SocketAddr, targets: &Arc<[String; 2]>) -> Figures {
    let start = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let targets = Arc::clone(targets);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0;
                let mut stream = None;
                let mut n = i;
                while start.elapsed() < PHASE {
                    let target = &targets[n % 2];
                    n += 1;
                    let began = Instant::now();
                    if stream.is_none() {
                        stream = TcpStream::connect(addr).await.ok();
                    }
                    let Some(connection) = stream.as_mut() else {
                        failures += 1;
                        continue;
                    };
                    match get(connection, target).await {
                        Some(200) => latencies.push(began.elapsed()),
                        _ => {
                            failures += 1;
                            stream = None;
                        }
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (l, f) = worker.await.expect("a client");
        latencies.extend(l);
        failures += f;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(Duration::MAX)
    };
    Figures {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        requests: latencies.len(),
        failures,
    }
}

/// One GET on a kept-alive connection: its status, with the body read.
async fn get(stream: &mut TcpStream, target: &str) -> Option<u16> {
    let request = format!("GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())?;
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(status)
}

/// A connection sending a header a byte every 100 ms; how long the server
/// kept it open (None: still open when told to stop, or never connected).
async fn slowloris(addr: SocketAddr, stop: Arc<AtomicBool>) -> Option<Duration> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let start = Instant::now();
    stream
        .write_all(b"GET /config.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .ok()?;
    let mut sink = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        if stream.write_all(b"x").await.is_err() {
            return Some(start.elapsed());
        }
        let read = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut sink)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            return Some(start.elapsed());
        }
        if start.elapsed() > PHASE * 4 {
            return None;
        }
    }
    None
}

/// Opens `count` connections that never send a byte; they, and how many
/// were answered 503 on the spot.
async fn idle_flood(addr: SocketAddr, count: usize) -> (Vec<TcpStream>, usize) {
    let mut held = Vec::with_capacity(count);
    let mut refused = 0;
    for _ in 0..count {
        let Ok(stream) = TcpStream::connect(addr).await else {
            continue;
        };
        held.push(stream);
    }
    // A refusal arrives at once; give them a moment, then count.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut peek = [0u8; 16];
    for stream in &held {
        if let Ok(n) = stream.try_read(&mut peek)
            && n > 0
            && peek[..n].starts_with(b"HTTP/1.1 503")
        {
            refused += 1;
        }
    }
    (held, refused)
}

/// How many flood connections the server has not closed.
async fn flood_still_open(flood: Vec<TcpStream>) -> usize {
    let mut open = 0;
    let mut buf = [0u8; 1024];
    for stream in &flood {
        // Closed ones read EOF (after any 503); open ones would block.
        let closed = loop {
            match stream.try_read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
                Err(_) => break true,
            }
        };
        if !closed {
            open += 1;
        }
    }
    open
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the tree") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
