//! The HTTP backend against a tiny static file server on 127.0.0.1 that
//! serves a registry directory (and, for the write API, canned replies):
//! resolution, blob verification, the offline cache, search, mirroring,
//! publish and yank.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crucible_registry::{
    AnyRegistry, Checksum, ClientError, Declaration, HttpRegistry, Kind, ListPackages,
    LocalRegistry, MirrorError, NewVersion, PackageName, Registry, RegistryCache, RegistryLocation,
    Token, Version, mirror, publish_http, resolve, resolve_locked, write_package_list, yank_http,
};

/// What the tests' uploads declare themselves to be.
const DECLARED: Declaration<'static> = Declaration {
    name: "ns/pkg",
    version: "1.0.0",
    description: "a test package",
};

// ---- a static file server ------------------------------------------------

#[derive(Debug, Clone)]
struct Request {
    method: String,
    /// Path and query, as sent.
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
}

type Handler = Arc<dyn Fn(&Request) -> Option<Reply> + Send + Sync>;

struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serves the files under `root`; `handler` answers first when it has
    /// something to say.
    fn start(root: Option<PathBuf>, handler: Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, handler, requests) =
                        (root.clone(), handler.clone(), requests.clone());
                    std::thread::spawn(move || {
                        let _ = answer(stream, root.as_deref(), &handler, &requests);
                    });
                }
            })
        };
        Self {
            addr,
            stop,
            thread: Some(thread),
            requests,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(
    stream: TcpStream,
    root: Option<&Path>,
    handler: &Handler,
    requests: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Request {
        method,
        target,
        headers,
        body,
    };
    requests.lock().expect("lock").push(request.clone());
    let reply = handler(&request).unwrap_or_else(|| static_file(root, &request));
    let reason = match reply.status {
        200 => "OK",
        201 => "Created",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Other",
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.body.len()
    )?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

fn static_file(root: Option<&Path>, request: &Request) -> Reply {
    let not_found = Reply {
        status: 404,
        body: b"not found\n".to_vec(),
    };
    let path = request.target.split('?').next().unwrap_or_default();
    let (Some(root), "GET") = (root, request.method.as_str()) else {
        return not_found;
    };
    if path.split('/').any(|p| p == "..") {
        return not_found;
    }
    match std::fs::read(root.join(path.trim_start_matches('/'))) {
        Ok(body) => Reply { status: 200, body },
        Err(_) => not_found,
    }
}

fn files_only() -> Handler {
    Arc::new(|_| None)
}

// ---- registries to serve ---------------------------------------------------

fn name(text: &str) -> PackageName {
    text.parse().expect("a valid name")
}

fn new_version(package: &str, version: &str) -> NewVersion {
    NewVersion {
        name: name(package),
        version: version.parse().expect("semver"),
        kind: Kind::Scenario,
        contract: "crucible:plugin@0.1.0".into(),
        description: format!("the {package} scenario"),
        license: Some("Apache-2.0".into()),
        repository: None,
    }
}

/// `ns/pkg` 1.0.0, 1.1.0 and a yanked 1.2.0, and `ns/other` 0.1.0, each
/// version's bytes being `package@version`.
fn published(root: &Path) -> LocalRegistry {
    let registry = LocalRegistry::create(root).expect("a registry");
    for (package, version) in [
        ("ns/pkg", "1.0.0"),
        ("ns/pkg", "1.1.0"),
        ("ns/pkg", "1.2.0"),
        ("ns/other", "0.1.0"),
    ] {
        let bytes = format!("{package}@{version}");
        registry
            .publish(&new_version(package, version), bytes.as_bytes())
            .expect("published");
    }
    registry
        .yank(&name("ns/pkg"), &"1.2.0".parse().expect("v"), true)
        .expect("yanked");
    registry
}

fn version(text: &str) -> Version {
    text.parse().expect("semver")
}

// ---- reads ---------------------------------------------------------------

#[test]
fn resolves_and_fetches_over_http_then_offline_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    published(&dir.path().join("reg"));
    let cache = RegistryCache::new(dir.path().join("cache"));
    let server = Server::start(Some(dir.path().join("reg")), files_only());
    let url = server.url();

    let http = HttpRegistry::new(&url)
        .expect("a client")
        .with_cache(cache.clone());
    assert_eq!(http.source().to_string(), format!("registry+{url}"));
    let record = resolve(&http, &name("ns/pkg"), &"^1".parse().expect("req")).expect("resolved");
    assert_eq!(
        record.version,
        version("1.1.0"),
        "the yanked 1.2.0 is skipped"
    );
    assert_eq!(http.blob(&record.sha256).expect("fetched"), b"ns/pkg@1.1.0");
    let pinned = resolve_locked(&http, &name("ns/pkg"), &version("1.2.0")).expect("pinned");
    assert!(pinned.yanked);
    assert_eq!(http.blob(&pinned.sha256).expect("fetched"), b"ns/pkg@1.2.0");
    // A cached blob is not fetched again.
    let before = server.requests().len();
    http.blob(&record.sha256).expect("cached");
    assert_eq!(server.requests().len(), before);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.headers.contains_key("authorization")),
        "reads carry no token"
    );
    drop(http);
    drop(server);

    // The server is gone: offline, only the cache answers.
    let offline = HttpRegistry::new(&url)
        .expect("a client")
        .with_cache(cache.clone())
        .offline(true);
    let again = resolve(&offline, &name("ns/pkg"), &"^1".parse().expect("req")).expect("offline");
    assert_eq!(again, record);
    assert_eq!(
        offline.blob(&record.sha256).expect("cached"),
        b"ns/pkg@1.1.0"
    );

    let err = offline
        .versions(&name("ns/other"))
        .expect_err("never fetched");
    let message = err.to_string();
    assert!(message.contains("ns/other"), "{message}");
    assert!(message.contains("not in the local cache"), "{message}");
    assert!(message.contains("--offline"), "{message}");

    let unfetched = Checksum::of(b"ns/pkg@1.0.0");
    let err = offline.blob(&unfetched).expect_err("never fetched");
    assert!(err.to_string().contains(unfetched.as_str()), "{err}");
    assert!(err.to_string().contains("not in the local cache"), "{err}");

    // A cached blob changed on disk is caught on read, naming both hashes.
    std::fs::write(cache.blob_path(&record.sha256), b"tampered").expect("tamper");
    let err = offline.blob(&record.sha256).expect_err("tampered");
    let message = err.to_string();
    assert!(message.contains(record.sha256.as_str()), "{message}");
    assert!(
        message.contains(Checksum::of(b"tampered").as_str()),
        "{message}"
    );

    // Online again, the damaged copy is replaced by a verified one.
    let server = Server::start(Some(dir.path().join("reg")), files_only());
    let http = HttpRegistry::new(&server.url())
        .expect("a client")
        .with_cache(cache.clone());
    assert_eq!(http.blob(&record.sha256).expect("fetched"), b"ns/pkg@1.1.0");
    assert_eq!(
        offline.blob(&record.sha256).expect("repaired"),
        b"ns/pkg@1.1.0"
    );
}

#[test]
fn a_tampered_blob_is_refused_naming_the_url_and_both_hashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = published(&dir.path().join("reg"));
    let record = registry
        .record(&name("ns/pkg"), &version("1.1.0"))
        .expect("record");
    let blob_path = format!(
        "/blobs/sha256/{}/{}",
        &record.sha256.as_str()[..2],
        record.sha256
    );
    let tampered = blob_path.clone();
    let server = Server::start(
        Some(dir.path().join("reg")),
        Arc::new(move |r| {
            (r.target == tampered).then(|| Reply {
                status: 200,
                body: b"evil".to_vec(),
            })
        }),
    );
    let cache = RegistryCache::new(dir.path().join("cache"));
    let http = HttpRegistry::new(&server.url())
        .expect("a client")
        .with_cache(cache.clone());
    let err = http.blob(&record.sha256).expect_err("tampered");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}{blob_path}", server.url())),
        "{message}"
    );
    assert!(message.contains(record.sha256.as_str()), "{message}");
    assert!(
        message.contains(Checksum::of(b"evil").as_str()),
        "{message}"
    );
    assert!(
        !cache.blob_path(&record.sha256).exists(),
        "nothing unverified is cached"
    );
}

#[test]
fn server_errors_name_the_url_status_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    published(&dir.path().join("reg"));
    let server = Server::start(
        Some(dir.path().join("reg")),
        Arc::new(|r| {
            r.target.ends_with("/broken.jsonl").then(|| Reply {
                status: 500,
                body: b"disk on fire\nat line 3 of the server".to_vec(),
            })
        }),
    );
    let http = HttpRegistry::new(&server.url()).expect("a client");
    let err = http.versions(&name("ns/broken")).expect_err("500");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}/index/ns/broken.jsonl", server.url())),
        "{message}"
    );
    assert!(
        message.contains("HTTP 500 Internal Server Error: disk on fire"),
        "{message}"
    );
    assert!(!message.contains("line 3"), "one line: {message}");

    let err = http.versions(&name("ns/none")).expect_err("404");
    assert!(
        err.to_string().contains(&format!(
            "no package `ns/none` in registry+{}",
            server.url()
        )),
        "{err}"
    );

    // Not a registry at all, or a newer one.
    let empty = tempfile::tempdir().expect("tempdir");
    let server = Server::start(Some(empty.path().to_owned()), files_only());
    let err = HttpRegistry::new(&server.url())
        .expect("a client")
        .versions(&name("ns/pkg"))
        .expect_err("no config");
    assert!(err.to_string().contains("not a Crucible registry"), "{err}");
    std::fs::write(empty.path().join("config.json"), r#"{"format":99}"#).expect("write");
    let err = HttpRegistry::new(&server.url())
        .expect("a client")
        .versions(&name("ns/pkg"))
        .expect_err("newer");
    assert!(err.to_string().contains("upgrade crucible"), "{err}");

    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let err = HttpRegistry::new(&dead)
        .expect("a client")
        .versions(&name("ns/pkg"))
        .expect_err("refused");
    assert!(
        err.to_string().contains(&format!("{dead}/config.json")),
        "{err}"
    );
}

#[test]
fn works_from_inside_an_async_runtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    published(&dir.path().join("reg"));
    let server = Server::start(Some(dir.path().join("reg")), files_only());
    let url = server.url();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let versions = runtime.block_on(async move {
        // Opened, used and dropped on a runtime thread, as the host does.
        let http = HttpRegistry::new(&url).expect("a client");
        let versions = http.versions(&name("ns/pkg")).expect("versions");
        drop(http);
        versions
    });
    assert_eq!(versions.len(), 3);
}

#[test]
fn search_and_mirror_need_the_package_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = published(&dir.path().join("reg"));
    let server = Server::start(Some(dir.path().join("reg")), files_only());
    let http = HttpRegistry::new(&server.url()).expect("a client");
    let err = http.search("").expect_err("no list");
    assert!(err.to_string().contains("index/packages.json"), "{err}");
    assert!(err.to_string().contains("no package list"), "{err}");

    let list = write_package_list(&source).expect("written");
    assert_eq!(list.packages, vec![name("ns/other"), name("ns/pkg")]);
    let found = http.search("PKG").expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].version, version("1.1.0"));
    assert_eq!(http.search("").expect("all").len(), 2);
    assert_eq!(
        http.search("").expect("all"),
        source.search("").expect("all")
    );
}

#[test]
fn mirror_copies_everything_checking_every_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = published(&dir.path().join("reg"));
    write_package_list(&source).expect("written");
    let server = Server::start(Some(dir.path().join("reg")), files_only());
    let from = AnyRegistry::open(
        &RegistryLocation::parse(&server.url()).expect("url"),
        None,
        false,
    )
    .expect("opened");
    let target = LocalRegistry::create(&dir.path().join("mirror")).expect("a registry");

    let report = mirror(&from, &target).expect("mirrored");
    assert_eq!(report.packages, 2);
    assert_eq!(report.versions_added, 4);
    assert_eq!(report.blobs_written, 4);
    for package in ["ns/pkg", "ns/other"] {
        assert_eq!(
            target.versions(&name(package)).expect("mirrored"),
            source.versions(&name(package)).expect("source"),
            "records are copied as published, yanked flags included"
        );
    }
    for record in source.versions(&name("ns/pkg")).expect("source") {
        target.blob(&record.sha256).expect("a verified blob");
    }
    assert_eq!(
        target.package_names().expect("listed"),
        source.package_names().expect("listed")
    );
    assert!(dir.path().join("mirror/index/packages.json").is_file());

    // Again: nothing new; then a yank and a new version upstream follow.
    let report = mirror(&from, &target).expect("mirrored");
    assert_eq!((report.versions_added, report.unchanged), (0, 4));
    source
        .yank(&name("ns/pkg"), &version("1.0.0"), true)
        .expect("yanked");
    source
        .yank(&name("ns/pkg"), &version("1.2.0"), false)
        .expect("restored");
    source
        .publish(&new_version("ns/pkg", "1.3.0"), b"ns/pkg@1.3.0")
        .expect("published");
    let report = mirror(&from, &target).expect("mirrored");
    assert_eq!(
        (
            report.versions_added,
            report.yanks_changed,
            report.blobs_written
        ),
        (1, 2, 1)
    );
    assert_eq!(
        target.versions(&name("ns/pkg")).expect("mirrored"),
        source.versions(&name("ns/pkg")).expect("source")
    );

    // A mirror never overwrites a version it holds with other bytes.
    let other = LocalRegistry::create(&dir.path().join("other")).expect("a registry");
    other
        .publish(&new_version("ns/pkg", "1.0.0"), b"different bytes")
        .expect("published");
    let err = mirror(&from, &other).expect_err("diverged");
    assert!(matches!(err, MirrorError::Diverged { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(Checksum::of(b"different bytes").as_str()),
        "{err}"
    );
}

#[test]
fn mirror_refuses_a_tampered_blob_and_stores_nothing_of_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = published(&dir.path().join("reg"));
    write_package_list(&source).expect("written");
    let record = source
        .record(&name("ns/other"), &version("0.1.0"))
        .expect("record");
    let tampered = format!(
        "/blobs/sha256/{}/{}",
        &record.sha256.as_str()[..2],
        record.sha256
    );
    let server = Server::start(
        Some(dir.path().join("reg")),
        Arc::new(move |r| {
            (r.target == tampered).then(|| Reply {
                status: 200,
                body: b"evil".to_vec(),
            })
        }),
    );
    let from = HttpRegistry::new(&server.url()).expect("a client");
    let target = LocalRegistry::create(&dir.path().join("mirror")).expect("a registry");
    let err = mirror(&from, &target).expect_err("tampered");
    let message = err.to_string();
    assert!(message.contains(record.sha256.as_str()), "{message}");
    assert!(
        message.contains(Checksum::of(b"evil").as_str()),
        "{message}"
    );
    assert!(target.versions(&name("ns/other")).is_err(), "no index line");
    assert!(target.blob(&record.sha256).is_err(), "no blob");
}

// ---- writes --------------------------------------------------------------

#[test]
fn publish_and_yank_send_the_token_and_show_refusals_as_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = published(&dir.path().join("reg"));
    let record = registry
        .record(&name("ns/pkg"), &version("1.1.0"))
        .expect("record");
    let record_json = serde_json::to_vec(&record).expect("json");
    let server = Server::start(
        None,
        Arc::new(move |r| {
            let authorized =
                r.headers.get("authorization").map(String::as_str) == Some("Bearer good-token");
            if !authorized {
                return Some(Reply {
                    status: 403,
                    body: b"namespace `ns` belongs to another owner\n".to_vec(),
                });
            }
            let status = if r.method == "PUT" { 201 } else { 200 };
            Some(Reply {
                status,
                body: record_json.clone(),
            })
        }),
    );
    let url = format!("{}/", server.url());
    let good = Token::new("good-token");
    let published = publish_http(
        &url,
        &good,
        b"\0asm component",
        DECLARED,
        Some("Apache-2.0"),
        Some("https://example.org/x?y"),
    )
    .expect("published");
    assert_eq!(published, record);
    let request = server.requests().pop().expect("a request");
    assert_eq!(request.method, "PUT");
    assert!(
        request.target.starts_with("/api/v1/packages?"),
        "{}",
        request.target
    );
    assert!(
        request.target.contains("license=Apache-2.0"),
        "{}",
        request.target
    );
    assert!(
        request
            .target
            .contains("repository=https%3A%2F%2Fexample.org%2Fx%3Fy"),
        "{}",
        request.target
    );
    assert_eq!(request.body, b"\0asm component");

    let yanked = yank_http(&url, &good, &name("ns/pkg"), &version("1.1.0"), true).expect("yanked");
    assert_eq!(yanked, Some(record));
    let request = server.requests().pop().expect("a request");
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", "/api/v1/yank")
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"name": "ns/pkg", "version": "1.1.0", "yanked": true})
    );

    let bad = Token::new("stolen-token");
    let err = publish_http(&url, &bad, b"x", DECLARED, None, None).expect_err("refused");
    assert!(matches!(err, ClientError::Refused { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.ends_with("HTTP 403 Forbidden: namespace `ns` belongs to another owner"),
        "{message}"
    );
    assert!(message.contains("/api/v1/packages"), "{message}");
    assert!(!message.contains("stolen-token"), "{message}");
    let err =
        yank_http(&url, &bad, &name("ns/pkg"), &version("1.1.0"), false).expect_err("refused");
    assert!(
        err.to_string().contains("belongs to another owner"),
        "{err}"
    );
    assert!(!format!("{err:?}").contains("stolen-token"), "{err:?}");
}

#[test]
fn a_server_without_a_package_list_is_searched_through_its_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = published(&dir.path().join("reg"));
    let everything = source.search("").expect("search");
    let server = Server::start(
        Some(dir.path().join("reg")),
        Arc::new(move |r| {
            r.target.starts_with("/api/v1/search?").then(|| {
                let q = r.target.split("q=").nth(1).unwrap_or_default().to_owned();
                let found: Vec<_> = everything
                    .iter()
                    .filter(|rec| rec.name.as_str().contains(&q))
                    .cloned()
                    .collect();
                Reply {
                    status: 200,
                    body: serde_json::to_vec(&found).expect("json"),
                }
            })
        }),
    );
    let http = HttpRegistry::new(&server.url()).expect("a client");
    let found = http.search("other").expect("searched");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, name("ns/other"));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.target == "/api/v1/search?q=other"),
        "{:?}",
        server.requests()
    );
    assert_eq!(
        http.package_names().expect("listed"),
        vec![name("ns/other"), name("ns/pkg")]
    );
}
