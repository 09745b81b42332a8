//! The registry server: the real `crucible registry serve` on 127.0.0.1,
//! spoken to in plain HTTP/1.1 over a `TcpStream`, so that requests go out
//! exactly as written (no client normalizes `..` away) and a server that
//! answers before reading a whole upload is still heard.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::*;

/// What an upload declares it is: the blackmail scenario's name and
/// version for its bytes, the blackmail classifier's for anything else
/// (which the refusal tests send).
fn declaration(bytes: &[u8]) -> &'static str {
    let scenario = read(&crucible_test_support::guests::guests().blackmail_scenario);
    if bytes == scenario.as_slice() {
        "name=agentic-misalignment%2Fblackmail&version=0.2.0&description=the%20blackmail%20scenario"
    } else {
        "name=agentic-misalignment%2Fblackmail-classifier&version=0.2.0&description=the%20blackmail%20classifier"
    }
}

/// A running `crucible registry serve --root reg` in a directory; killed
/// when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let log = dir.join("server.log");
        let mut child = crucible(dir)
            .args([
                "registry",
                "serve",
                "--root",
                "reg",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create the server log"))
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the server's address");
        let addr = line
            .trim()
            .rsplit_once("http://")
            .and_then(|(_, addr)| addr.parse().ok())
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("no address in {line:?}; the server said: {log}")
            });
        Self { child, addr, log }
    }

    fn get(&self, target: &str) -> Reply {
        http(self.addr, "GET", target, &[], Body::Plain(&[]))
    }

    fn publish(&self, token: Option<&str>, bytes: &[u8]) -> Reply {
        self.publish_to("/api/v1/packages", token, Body::Plain(bytes))
    }

    /// A `PUT` to `target`, declaring the blackmail classifier's name and
    /// version unless the target declares its own.
    fn publish_to(&self, target: &str, token: Option<&str>, body: Body<'_>) -> Reply {
        let target = if target.contains("name=") {
            target.to_owned()
        } else {
            let bytes = match &body {
                Body::Plain(bytes) | Body::Chunked(bytes) => *bytes,
            };
            let joiner = if target.contains('?') { '&' } else { '?' };
            format!("{target}{joiner}{}", declaration(bytes))
        };
        let target = target.as_str();
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| ("Authorization", a))
            .into_iter()
            .collect();
        http(self.addr, "PUT", target, &headers, body)
    }

    fn yank(&self, token: &str, name: &str, version: &str, yanked: bool) -> Reply {
        let body = serde_json::json!({ "name": name, "version": version, "yanked": yanked });
        let auth = format!("Bearer {token}");
        http(
            self.addr,
            "POST",
            "/api/v1/yank",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Body::Plain(body.to_string().as_bytes()),
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Body<'a> {
    /// Sent with its `Content-Length`.
    Plain(&'a [u8]),
    /// Sent chunked: the server cannot know the size before reading.
    Chunked(&'a [u8]),
}

#[derive(Debug)]
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A refusal: this status, one line naming `needle`.
    fn refused(&self, status: u16, needle: &str) {
        let text = self.text();
        assert_eq!(self.status, status, "{text}");
        assert!(!text.contains('\n'), "one line: {text:?}");
        assert!(text.contains(needle), "`{needle}` not in: {text}");
    }
}

/// One HTTP/1.1 request on its own connection.
fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Body<'_>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("set a timeout");
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut bytes = match body {
        Body::Plain(body) => {
            request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let mut bytes = request.into_bytes();
            bytes.extend_from_slice(body);
            bytes
        }
        Body::Chunked(body) => {
            request.push_str("Transfer-Encoding: chunked\r\n\r\n");
            let mut bytes = request.into_bytes();
            for chunk in body.chunks(16 << 10) {
                bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(chunk);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
            bytes
        }
    };
    // A server may answer (401, 413) and close before reading all of an
    // upload: a failed write is not the test's failure, the answer is.
    let _ = stream.write_all(&bytes);
    bytes.clear();
    let mut buf = [0u8; 16 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            // A reset after the answer arrived (unread upload bytes).
            Err(_) if !bytes.is_empty() => break,
            Err(e) => panic!("{method} {target}: no answer: {e}"),
        }
    }
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "{method} {target}: no header end in {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let mut body = bytes[split + 4..].to_vec();
    let length =
        length.unwrap_or_else(|| panic!("{method} {target}: no Content-Length in {head:?}"));
    assert!(body.len() >= length, "{method} {target}: body cut short");
    body.truncate(length);
    Reply { status, body }
}

/// `crucible registry token create --root reg --owner OWNER` in `dir`.
fn token(dir: &Path, owner: &str) -> String {
    let output = crucible(dir)
        .args([
            "registry", "token", "create", "--root", "reg", "--owner", owner,
        ])
        .output()
        .expect("crucible runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output).trim().to_owned();
    assert_eq!(token.len(), 64, "{token}");
    token
}

fn revoke(dir: &Path, owner: &str) {
    let output = crucible(dir)
        .args([
            "registry", "token", "revoke", "--root", "reg", "--owner", owner,
        ])
        .output()
        .expect("crucible runs");
    assert!(output.status.success(), "{}", stderr(&output));
}

/// What the registry holds: every file under `index/` and `blobs/`, and
/// the namespace owners, with their contents' sha256.
fn stored(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let bytes = std::fs::read(&path).expect("read a stored file");
                let key = path.strip_prefix(root).expect("under the root");
                into.insert(key.display().to_string(), sha256(&bytes));
            }
        }
    }
    let root = dir.join("reg");
    let mut files = BTreeMap::new();
    walk(&root, &root.join("index"), &mut files);
    walk(&root, &root.join("blobs"), &mut files);
    if let Ok(bytes) = std::fs::read(root.join("auth/namespaces.json")) {
        files.insert("auth/namespaces.json".to_owned(), sha256(&bytes));
    }
    files
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const CLASSIFIER: &str = "agentic-misalignment/blackmail-classifier";

#[test]
fn publish_read_back_search_and_yank() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let alice = token(dir.path(), "alice");
    let bob = token(dir.path(), "bob");
    let server = Server::start(dir.path(), &[]);
    let component = read(&guests.blackmail_classifier);

    let config = server.get("/config.json");
    assert_eq!(config.status, 200, "{}", config.text());
    assert_eq!(config.json()["format"], 1);

    let published = server.publish_to(
        "/api/v1/packages?license=Apache-2.0&repository=https%3A%2F%2Fexample.org%2Fx",
        Some(&alice),
        Body::Plain(&component),
    );
    assert_eq!(published.status, 201, "{}", published.text());
    let record = published.json();
    assert_eq!(record["name"], CLASSIFIER);
    assert_eq!(record["version"], "0.2.0");
    assert_eq!(record["kind"], "classifier");
    assert_eq!(record["contract"], "crucible:plugin@0.1.0");
    assert_eq!(record["size"], component.len());
    assert_eq!(record["license"], "Apache-2.0");
    assert_eq!(record["repository"], "https://example.org/x");
    let hex = sha256(&component);
    assert_eq!(record["sha256"], hex.as_str(), "the server computed it");

    // The index file, byte for byte as stored.
    let index_path = format!("/index/{CLASSIFIER}.jsonl");
    let index = server.get(&index_path);
    assert_eq!(index.status, 200, "{}", index.text());
    assert_eq!(
        index.body,
        read(&dir.path().join("reg").join(&index_path[1..]))
    );
    let line: Value = serde_json::from_str(index.text().trim()).expect("one JSON line");
    assert_eq!(line["v"], 1);
    assert_eq!(line["sha256"], hex.as_str());

    let blob = server.get(&format!("/blobs/sha256/{}/{hex}", &hex[..2]));
    assert_eq!(blob.status, 200, "{}", blob.text());
    assert_eq!(sha256(&blob.body), hex, "the blob is the component");
    assert_eq!(blob.body, component);

    let found = server.get("/api/v1/search?q=BLACKMAIL%20classifier").json();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["name"], CLASSIFIER);
    assert_eq!(
        server.get("/api/v1/search?q=nothing-like-it").json(),
        serde_json::json!([])
    );

    // Only the owner yanks and unyanks.
    server
        .yank(&bob, CLASSIFIER, "0.2.0", true)
        .refused(403, "namespace `agentic-misalignment` belongs to `alice`");
    let yanked = server.yank(&alice, CLASSIFIER, "0.2.0", true);
    assert_eq!(yanked.status, 200, "{}", yanked.text());
    assert_eq!(yanked.json()["yanked"], true);
    let line: Value = serde_json::from_slice(&server.get(&index_path).body).expect("JSON");
    assert_eq!(line["yanked"], true);
    assert_eq!(
        server.get("/api/v1/search?q=blackmail").json(),
        serde_json::json!([])
    );
    let restored = server.yank(&alice, CLASSIFIER, "0.2.0", false);
    assert_eq!(restored.status, 200, "{}", restored.text());
    assert_eq!(restored.json()["yanked"], false);
    server
        .yank(&alice, CLASSIFIER, "9.9.9", true)
        .refused(404, "no such version");
    server
        .yank(&alice, "agentic-misalignment/nothing", "0.1.0", true)
        .refused(404, "no package `agentic-misalignment/nothing`");
    server
        .yank(&alice, "../etc", "0.1.0", true)
        .refused(422, "invalid package name");

    server
        .get("/index/agentic-misalignment/nothing.jsonl")
        .refused(404, "no package `agentic-misalignment/nothing`");
    let absent = "0".repeat(64);
    server
        .get(&format!("/blobs/sha256/00/{absent}"))
        .refused(404, "no blob with sha256");

    let log = server.log();
    assert!(
        log.contains("PUT \"/api/v1/packages") && log.contains("201 alice"),
        "{log}"
    );
    assert!(
        !log.contains(&alice) && !log.contains(&bob),
        "tokens never logged: {log}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["reg/auth/tokens.json", "reg/auth/namespaces.json"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
}

#[test]
fn every_refusal_has_its_status_and_reason_and_stores_nothing() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let alice = token(dir.path(), "alice");
    let bob = token(dir.path(), "bob");
    let carol = token(dir.path(), "carol");
    revoke(dir.path(), "carol");
    let server = Server::start(dir.path(), &[]);
    let classifier = read(&guests.blackmail_classifier);
    let scenario = read(&guests.blackmail_scenario);
    let first = server.publish(Some(&alice), &classifier);
    assert_eq!(first.status, 201, "{}", first.text());
    let before = stored(dir.path());
    assert_eq!(
        before.keys().filter(|k| k.starts_with("index/")).count(),
        1,
        "{before:?}"
    );

    // A component with no exports at all: not a Crucible world.
    let no_world = b"\0asm\x0d\0\x01\0";
    let random: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let unknown = "0".repeat(64);
    let attempts: Vec<(&str, Reply, u16, &str)> = vec![
        ("no token", server.publish(None, &scenario), 401, "no token"),
        (
            "another scheme",
            http(
                server.addr,
                "PUT",
                "/api/v1/packages",
                &[("Authorization", &format!("Basic {alice}"))],
                Body::Plain(&scenario),
            ),
            401,
            "no token",
        ),
        (
            "an unknown token",
            server.publish(Some(&unknown), &scenario),
            401,
            "invalid token",
        ),
        (
            "a revoked token",
            server.publish(Some(&carol), &scenario),
            401,
            "this token was revoked",
        ),
        (
            "another owner's namespace",
            server.publish(Some(&bob), &scenario),
            403,
            "namespace `agentic-misalignment` belongs to `alice`; `bob` cannot publish in it",
        ),
        (
            "a republish",
            server.publish(Some(&alice), &classifier),
            409,
            "agentic-misalignment/blackmail-classifier@0.2.0: already published",
        ),
        (
            "a component of no Crucible world",
            server.publish(Some(&bob), no_world),
            422,
            "exports no Crucible contract interface",
        ),
        (
            "a core module",
            server.publish(Some(&bob), b"\0asm\x01\0\0\0"),
            422,
            "core WebAssembly module, not a component",
        ),
        (
            "a component that imports networking",
            server.publish(Some(&bob), &read(&guests.networking_scenario)),
            422,
            "`wasi:sockets/tcp@",
        ),
        (
            "random bytes",
            server.publish(Some(&bob), &random),
            422,
            "not a WebAssembly component",
        ),
        (
            "an empty body",
            server.publish(Some(&bob), b""),
            422,
            "the body is empty",
        ),
        (
            "a multi-line license",
            server.publish_to(
                "/api/v1/packages?license=MIT%0AEvil",
                Some(&bob),
                Body::Plain(&scenario),
            ),
            422,
            "`license` must be one line",
        ),
    ];
    for (what, reply, status, needle) in attempts {
        eprintln!("{what}: {} {}", reply.status, reply.text());
        reply.refused(status, needle);
        assert_eq!(stored(dir.path()), before, "{what}: nothing stored");
    }

    // Nothing outside the layout is ever served, however the path is spelt.
    for target in [
        "/auth/tokens.json",
        "/auth/namespaces.json",
        "/locks/agentic-misalignment/blackmail-classifier.lock",
        "/index/../auth/tokens.json",
        "/index/..%2Fauth/tokens.json",
        "/index/..%2fauth%2ftokens.json",
        "/index/%2e%2e/auth/tokens.json",
        "/index/%2E%2E%2Fauth/tokens.json",
        "/index/agentic-misalignment/..%2F..%2Fauth%2Ftokens.json",
        "/index/agentic-misalignment/blackmail-classifier.jsonl%00",
        "/index/agentic-misalignment/blackmail-classifier.jsonl/../../../auth/tokens.json",
        "/blobs/sha256/../../auth/tokens.json",
        "/blobs/sha256/..%2F..%2Fauth/tokens.json",
        "/config.json/../auth/tokens.json",
        "/%2e%2e/auth/tokens.json",
        "/..%2Fauth%2Ftokens.json",
        "/./config.json/..",
        "//etc/passwd",
    ] {
        let reply = server.get(target);
        assert!(
            !reply.text().contains("sha256\":"),
            "{target}: {}",
            reply.text()
        );
        reply.refused(404, "not found");
    }
    // A blob is named by its lowercase sha256 under its own two-digit prefix.
    let hex = sha256(&classifier);
    let upper = hex.to_uppercase();
    // Any prefix but its own (a blob's sha256 may well start with 00).
    let other_prefix = if hex.starts_with("00") { "01" } else { "00" };
    for target in [
        format!("/blobs/sha256/{}/{upper}", &upper[..2]),
        format!("/blobs/sha256/{other_prefix}/{hex}"),
        format!("/blobs/sha256/{}/{}", &hex[..2], &hex[..63]),
    ] {
        server.get(&target).refused(404, "not found");
    }
    assert_eq!(
        server
            .get(&format!("/blobs/sha256/{}/{hex}", &hex[..2]))
            .status,
        200
    );
    let log = server.log();
    for secret in [&alice, &bob, &carol] {
        assert!(!log.contains(secret.as_str()), "tokens never logged: {log}");
    }
}

#[test]
fn an_oversized_upload_is_refused_before_it_is_read() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let alice = token(dir.path(), "alice");
    let server = Server::start(dir.path(), &["--max-size", "1000"]);
    let classifier = read(&guests.blackmail_classifier);
    let before = stored(dir.path());
    server
        .publish(Some(&alice), &classifier)
        .refused(413, "over this registry's size limit of 1000 bytes");
    // Without a declared length, the limit cuts the body off as it passes.
    server
        .publish_to("/api/v1/packages", Some(&alice), Body::Chunked(&classifier))
        .refused(413, "over this registry's size limit of 1000 bytes");
    assert_eq!(stored(dir.path()), before, "nothing stored");
    assert!(!dir.path().join("reg/auth/namespaces.json").exists());
}

#[test]
fn two_concurrent_publishes_of_one_version_one_wins() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let alice = token(dir.path(), "alice");
    let bob = token(dir.path(), "bob");
    let server = Arc::new(Server::start(dir.path(), &[]));

    // Runs one publish per token at the same moment; returns the statuses
    // in token order.
    let race = |tokens: Vec<String>, component: &Path| -> Vec<u16> {
        let bytes = Arc::new(read(component));
        let barrier = Arc::new(Barrier::new(tokens.len()));
        let threads: Vec<_> = tokens
            .into_iter()
            .map(|token| {
                let (server, bytes, barrier) = (
                    Arc::clone(&server),
                    Arc::clone(&bytes),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    let reply = server.publish(Some(&token), &bytes);
                    eprintln!("{} {}", reply.status, reply.text());
                    reply.status
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("the publishing thread"))
            .collect()
    };

    // Two owners, one free namespace: one gets it, the other is refused.
    let claims = race(
        vec![alice.clone(), bob.clone()],
        &guests.blackmail_classifier,
    );
    let mut sorted = claims.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [201, 403], "{claims:?}");
    let winner = if claims[0] == 201 { alice } else { bob };

    // One owner, one version, twice at once: exactly one is stored.
    let mut statuses = race(vec![winner.clone(), winner], &guests.blackmail_scenario);
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let index = std::fs::read_to_string(
        dir.path()
            .join("reg/index/agentic-misalignment/blackmail.jsonl"),
    )
    .expect("the scenario's index");
    assert_eq!(index.lines().count(), 1, "{index}");
}

#[test]
fn a_namespace_published_into_offline_has_no_owner_until_one_is_assigned() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let published = crucible(dir.path())
        .arg("publish")
        .arg(&guests.blackmail_classifier)
        .args(["--registry", "reg"])
        .output()
        .expect("crucible runs");
    assert!(published.status.success(), "{}", stderr(&published));
    let alice = token(dir.path(), "alice");
    let server = Server::start(dir.path(), &[]);
    let scenario = read(&guests.blackmail_scenario);
    let before = stored(dir.path());
    server.publish(Some(&alice), &scenario).refused(
        403,
        "namespace `agentic-misalignment` holds packages but has no owner",
    );
    server
        .yank(&alice, CLASSIFIER, "0.2.0", true)
        .refused(403, "has no owner");
    assert_eq!(stored(dir.path()), before, "nothing stored");

    let assigned = crucible(dir.path())
        .args(["registry", "namespace", "assign", "agentic-misalignment"])
        .args(["--root", "reg", "--owner", "alice"])
        .output()
        .expect("crucible runs");
    assert!(assigned.status.success(), "{}", stderr(&assigned));
    let reply = server.publish(Some(&alice), &scenario);
    assert_eq!(reply.status, 201, "{}", reply.text());
}

/// The server records what a publisher declares without running the
/// component; a host loading the package refuses a component that
/// describes itself as something else.
#[test]
fn a_component_declared_as_another_package_is_refused_when_loaded() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let alice = token(dir.path(), "alice");
    let server = Server::start(dir.path(), &[]);
    let scenario = read(&guests.blackmail_scenario);
    let reply = server.publish_to(
        "/api/v1/packages?name=acme%2Fimpostor&version=1.0.0",
        Some(&alice),
        Body::Plain(&scenario),
    );
    assert_eq!(
        reply.status,
        201,
        "the declaration is recorded: {}",
        reply.text()
    );
    let suite = dir.path().join("suite.toml");
    std::fs::write(
        &suite,
        format!(
            "[suite]\nname = \"t\"\nregistry = \"http://{}\"\n\n\
             [scenarios.s]\npackage = \"acme/impostor\"\nversion = \"^1\"\nclassifiers = [\"c\"]\n\n\
             [classifiers.c]\ncomponent = {:?}\n",
            server.addr,
            guests.blackmail_classifier.display().to_string()
        ),
    )
    .expect("write the suite");
    let output = crucible(dir.path())
        .arg("run")
        .arg(&suite)
        .output()
        .expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "describes itself as `agentic-misalignment/blackmail@{}`, but the registry publishes it as `acme/impostor@1.0.0`",
            plugin_version("blackmail-scenario")
        )),
        "{err}"
    );
}

// Limits: the server's connections and requests are bounded. Every client
// here is 127.0.0.1, so the per-client caps are tested as one client.

/// A connection that sent `sent` and reads what comes back until the
/// server closes it or `patience` passes: the answer, and how long the
/// server took to close (None: still open).
fn held(stream: &mut TcpStream, patience: Duration) -> (String, Option<Duration>) {
    let start = std::time::Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("set a timeout");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < patience {
        match stream.read(&mut buf) {
            Ok(0) => return (lossy(&answer), Some(start.elapsed())),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (lossy(&answer), Some(start.elapsed())),
        }
    }
    (lossy(&answer), None)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A connection that has sent the start of a request, and no more.
fn half_request(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .write_all(b"GET /config.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("send half a request");
    stream
}

/// A whole request on a connection that is kept open; the answer's head.
fn keep_alive_get(stream: &mut TcpStream, target: &str) -> String {
    stream
        .write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .expect("send a request");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a timeout");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("an answer");
        assert!(n > 0, "closed before answering: {}", lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    lossy(&answer)
}

#[test]
fn slowloris_connections_are_closed_within_the_header_timeout() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(
        dir.path(),
        &["--header-timeout", "1", "--idle-timeout", "60"],
    );
    let mut slow: Vec<TcpStream> = (0..20).map(|_| half_request(server.addr)).collect();
    // A byte every 200 ms: never idle, never done.
    let start = std::time::Instant::now();
    let mut closed = vec![None; slow.len()];
    while start.elapsed() < Duration::from_secs(5) && closed.iter().any(Option::is_none) {
        for (stream, closed) in slow.iter_mut().zip(&mut closed) {
            if closed.is_none() && stream.write_all(b"x").is_err() {
                *closed = Some(start.elapsed());
            }
            if closed.is_none()
                && let (_, Some(_)) = held(stream, Duration::from_millis(10))
            {
                *closed = Some(start.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for (i, closed) in closed.iter().enumerate() {
        let closed = closed.unwrap_or_else(|| panic!("slowloris {i} still open after 5 s"));
        assert!(
            closed >= Duration::from_millis(900) && closed < Duration::from_secs(3),
            "slowloris {i} closed after {closed:?}, not about the 1 s header timeout"
        );
    }
    // The server itself is unharmed.
    assert_eq!(server.get("/config.json").status, 200);
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(
        dir.path(),
        &["--idle-timeout", "1", "--header-timeout", "60"],
    );
    // Silent from the start, and silent after an answer.
    let mut silent = TcpStream::connect(server.addr).expect("connect");
    let mut answered = TcpStream::connect(server.addr).expect("connect");
    let head = keep_alive_get(&mut answered, "/config.json");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    for (name, stream) in [("silent", &mut silent), ("answered", &mut answered)] {
        let (_, closed) = held(stream, Duration::from_secs(5));
        let closed = closed.unwrap_or_else(|| panic!("{name} connection still open after 5 s"));
        assert!(
            closed < Duration::from_secs(3),
            "{name} closed after {closed:?}, not about the 1 s idle timeout"
        );
    }
}

#[test]
fn connections_over_the_cap_are_refused_while_a_fresh_client_is_served() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(
        dir.path(),
        &[
            "--max-connections",
            "10",
            "--max-connections-per-client",
            "100",
            "--header-timeout",
            "60",
            "--idle-timeout",
            "60",
        ],
    );
    // Five connections mid-request, five that never send a byte.
    let mut busy: Vec<TcpStream> = (0..5).map(|_| half_request(server.addr)).collect();
    let mut idle: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Each fresh client, keeping its connection, is served in the place
    // of the connection idle the longest: the silent ones first.
    let mut fresh = Vec::new();
    for i in 0..5 {
        let mut stream = TcpStream::connect(server.addr).expect("connect");
        let head = keep_alive_get(&mut stream, "/config.json");
        assert!(head.starts_with("HTTP/1.1 200"), "fresh client {i}: {head}");
        fresh.push(stream);
    }
    for (i, stream) in idle.iter_mut().enumerate() {
        let (_, closed) = held(stream, Duration::from_secs(2));
        assert!(
            closed.is_some(),
            "silent connection {i} was not closed to make room"
        );
    }
    for (i, stream) in fresh.iter_mut().enumerate() {
        let (_, closed) = held(stream, Duration::from_millis(100));
        assert!(closed.is_none(), "fresh client {i} lost its connection");
    }
    // Now the ten slots are held by requests on their way: refused.
    drop(fresh);
    busy.extend((0..5).map(|_| half_request(server.addr)));
    std::thread::sleep(Duration::from_millis(300));
    let mut refused = half_request(server.addr);
    let (answer, closed) = held(&mut refused, Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(
        answer.contains("10 busy connections (--max-connections)"),
        "{answer}"
    );
    assert!(closed.is_some(), "the refused connection is closed");
    // The ones holding a slot are still being served: they finish.
    let mut first = busy.swap_remove(0);
    first.write_all(b"y\r\n\r\n").expect("finish the request");
    let (answer, _) = held(&mut first, Duration::from_millis(500));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        server.log().contains("refused 1 connection(s)"),
        "{}",
        server.log()
    );
}

#[test]
fn a_client_over_its_connection_cap_is_refused_429() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(dir.path(), &["--max-connections-per-client", "3"]);
    let held_open: Vec<TcpStream> = (0..3).map(|_| half_request(server.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fourth = half_request(server.addr);
    let (answer, closed) = held(&mut fourth, Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(
        answer.contains("holds 3 connections, its limit (--max-connections-per-client)"),
        "{answer}"
    );
    assert!(closed.is_some(), "the refused connection is closed");
    drop(held_open);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.get("/config.json").status, 200, "served again");
}

#[test]
fn a_client_over_its_request_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(dir.path(), &["--max-requests-per-second", "5"]);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    let heads: Vec<String> = (0..12)
        .map(|_| keep_alive_get(&mut stream, "/config.json"))
        .collect();
    let ok = heads
        .iter()
        .filter(|h| h.starts_with("HTTP/1.1 200"))
        .count();
    let limited: Vec<&String> = heads
        .iter()
        .filter(|h| h.starts_with("HTTP/1.1 429"))
        .collect();
    assert!((5..=6).contains(&ok), "{ok} of 12 served at 5/s: {heads:?}");
    assert_eq!(ok + limited.len(), 12, "{heads:?}");
    assert!(limited[0].contains("retry-after: 1"), "{}", limited[0]);
    // After the wait it asks for, the client is served again.
    std::thread::sleep(Duration::from_secs(1));
    let head = keep_alive_get(&mut stream, "/config.json");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[test]
fn a_slow_upload_is_answered_408_within_the_request_timeout() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let alice = token(dir.path(), "alice");
    let server = Server::start(dir.path(), &["--request-timeout", "1"]);
    let before = stored(dir.path());
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    let head = format!(
        "PUT /api/v1/packages?{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {alice}\r\n\
         Content-Length: 100000\r\n\r\n",
        declaration(b"")
    );
    stream.write_all(head.as_bytes()).expect("send the head");
    stream.write_all(&[0u8; 100]).expect("send a little");
    let (answer, closed) = held(&mut stream, Duration::from_secs(4));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("not complete within 1s (--request-timeout)"),
        "{answer}"
    );
    let closed = closed.expect("the connection is closed after the 408");
    assert!(closed < Duration::from_secs(3), "closed after {closed:?}");
    assert_eq!(stored(dir.path()), before, "nothing stored");
}
