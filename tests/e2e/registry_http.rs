//! The registry client over HTTP: `crucible publish/yank/search/info
//! --registry URL` against the real `crucible registry serve`, a suite whose
//! `registry` is a URL, the local blob cache that `--offline` and
//! `--frozen` read alone, and a plain static file server as a read-only
//! mirror.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};

use super::*;

const SCENARIO: &str = "agentic-misalignment/blackmail";
const CLASSIFIER: &str = "agentic-misalignment/blackmail-classifier";

/// A test directory with its own registry cache and config directory, so
/// that nothing is shared with other tests or the user.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let env = Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        std::fs::create_dir_all(env.path().join("config")).expect("config dir");
        env
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `crucible` in the directory, with `cache` as its cache and no
    /// registry token unless one is given.
    fn crucible_with(&self, cache: &str) -> Command {
        let mut command = crucible(self.path());
        command
            .env("CRUCIBLE_CACHE", self.path().join(cache))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env_remove("CRUCIBLE_REGISTRY_TOKEN")
            .env_remove("CRUCIBLE_REGISTRY");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.crucible_with("cache")
            .args(args)
            .output()
            .expect("crucible runs")
    }

    fn run_with_token(&self, token: &str, args: &[&str]) -> Output {
        self.crucible_with("cache")
            .env("CRUCIBLE_REGISTRY_TOKEN", token)
            .args(args)
            .output()
            .expect("crucible runs")
    }

    /// `crucible registry token create --root reg --owner OWNER`.
    fn token(&self, owner: &str) -> String {
        let out = ok(&self.run(&[
            "registry", "token", "create", "--root", "reg", "--owner", owner,
        ]));
        out.trim().to_owned()
    }

    /// A suite naming the blackmail pair by package, from `registry`.
    fn suite(&self, registry: &str) -> PathBuf {
        let suite = self.path().join("suite.toml");
        std::fs::write(
            &suite,
            format!(
                "[suite]\nname = \"over-http\"\nregistry = \"{registry}\"\n\n\
                 [scenarios.blackmail]\npackage = \"{SCENARIO}\"\nversion = \"^0.2\"\n\
                 classifiers = [\"blackmail\"]\nconditions = [\"blackmail_explicit-america_*\"]\n\n\
                 [classifiers.blackmail]\npackage = \"{CLASSIFIER}\"\nversion = \"^0.2\"\n"
            ),
        )
        .expect("write the suite");
        suite
    }
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// A failure with exit status 2 and one line of error naming `needle`.
fn refused(output: &Output, needle: &str) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert!(err.contains(needle), "`{needle}` not in: {err}");
    err
}

/// `crucible registry serve --root reg --listen 127.0.0.1:0`; killed when
/// dropped.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(env: &Env) -> Self {
        let mut child = env
            .crucible_with("server-cache")
            .args([
                "registry",
                "serve",
                "--root",
                "reg",
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the server's address");
        let addr = line
            .trim()
            .rsplit_once("http://")
            .map(|(_, addr)| addr.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain static file server over `root` (GET only, one connection per
/// request), with one path optionally answered with other bytes.
struct StaticHost {
    addr: SocketAddr,
}

impl StaticHost {
    fn start(root: PathBuf, tampered: Option<(String, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, tampered) = (root.clone(), tampered.clone());
                std::thread::spawn(move || {
                    let _ = serve_file(stream, &root, tampered.as_ref());
                });
            }
        });
        Self { addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve_file(
    stream: TcpStream,
    root: &Path,
    tampered: Option<&(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/");
    let body = match tampered {
        Some((tampered_path, bytes)) if tampered_path == path => Some(bytes.clone()),
        _ if path.split('/').any(|p| p == "..") => None,
        _ => std::fs::read(root.join(path.trim_start_matches('/'))).ok(),
    };
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

fn guest_path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn publish_over_http_then_run_locked_and_frozen_from_the_cache() {
    let guests = crucible_test_support::guests::guests();
    let env = Env::new();
    let alice = env.token("alice");
    let server = Served::start(&env);
    let url = server.url.clone();

    for component in [&guests.blackmail_scenario, &guests.blackmail_classifier] {
        let out = ok(&env.run_with_token(
            &alice,
            &[
                "publish",
                guest_path(component),
                "--registry",
                &url,
                "--license",
                "Apache-2.0",
            ],
        ));
        assert!(out.starts_with("Published agentic-misalignment/"), "{out}");
    }
    let out = ok(&env.run(&["search", "blackmail", "--registry", &url]));
    assert!(
        out.contains(&format!(
            "{SCENARIO}@{} (scenario)",
            plugin_version("blackmail-scenario")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{CLASSIFIER}@0.2.0 (classifier)")),
        "{out}"
    );
    let out = ok(&env.run(&["info", SCENARIO, "--registry", &url]));
    assert!(
        out.starts_with(&format!(
            "{SCENARIO}@{}: scenario",
            plugin_version("blackmail-scenario")
        )),
        "{out}"
    );

    // A suite whose registry is the server's URL.
    let suite = env.suite(&url);
    let suite_arg = guest_path(&suite);
    let out = ok(&env.run(&["run", "--quiet", suite_arg]));
    assert!(
        out.contains("reference/harmful: 3 harmful of 3 completed"),
        "{out}"
    );
    let lock = std::fs::read_to_string(env.path().join("crucible.lock")).expect("a lockfile");
    assert!(
        lock.contains(&format!("source = \"registry+{url}\"")),
        "{lock}"
    );
    ok(&env.run(&["run", "--quiet", "--locked", suite_arg]));

    // The server is gone: online fails naming the URL; --frozen and
    // --offline read the cache alone.
    drop(server);
    refused(&env.run(&["run", "--quiet", suite_arg]), &url);
    let out = ok(&env.run(&["run", "--quiet", "--frozen", suite_arg]));
    assert!(
        out.contains("reference/harmful: 3 harmful of 3 completed"),
        "{out}"
    );
    ok(&env.run(&["run", "--quiet", "--offline", suite_arg]));
    let out = ok(&env.run(&["lock", "--offline", suite_arg]));
    assert!(out.contains("is up to date"), "{out}");
    ok(&env.run(&["update", "--offline", suite_arg]));

    // With an empty cache, --frozen names what it lacks.
    let empty = env
        .crucible_with("empty-cache")
        .args(["run", "--quiet", "--frozen", suite_arg])
        .output()
        .expect("crucible runs");
    let err = refused(&empty, "not in the local cache");
    assert!(err.contains("agentic-misalignment/blackmail"), "{err}");
    assert!(err.contains("--offline"), "{err}");
}

#[test]
fn writes_need_a_private_token_and_refusals_are_shown_as_is() {
    let guests = crucible_test_support::guests::guests();
    let env = Env::new();
    let alice = env.token("alice");
    let bob = env.token("bob");
    let server = Served::start(&env);
    let url = server.url.clone();
    let classifier = guest_path(&guests.blackmail_classifier);

    refused(
        &env.run(&["publish", classifier, "--registry", &url]),
        "set CRUCIBLE_REGISTRY_TOKEN",
    );

    // A credentials file others can read is refused, naming it and its mode.
    let credentials = env.path().join("config/crucible/credentials.toml");
    std::fs::create_dir_all(credentials.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&credentials, format!("\"{url}/\" = \"{alice}\"\n")).expect("write");
    let chmod = |mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    };
    chmod(0o644);
    let err = refused(
        &env.run(&["publish", classifier, "--registry", &url]),
        "mode 0644",
    );
    assert!(err.contains(&credentials.display().to_string()), "{err}");
    assert!(!err.contains(&alice), "the token is never shown: {err}");
    chmod(0o600);
    let out = ok(&env.run(&["publish", classifier, "--registry", &url]));
    assert!(
        out.contains(&format!("Published {CLASSIFIER}@0.2.0")),
        "{out}"
    );

    // The server's refusals, with their status, as the server says them.
    let err = refused(
        &env.run(&["publish", classifier, "--registry", &url]),
        "HTTP 409 Conflict: ",
    );
    assert!(err.contains("a published version is immutable"), "{err}");
    let err = refused(
        &env.run_with_token(
            &bob,
            &["yank", &format!("{CLASSIFIER}@0.2.0"), "--registry", &url],
        ),
        "HTTP 403 Forbidden: ",
    );
    assert!(err.contains("belongs to `alice`"), "{err}");
    assert!(!err.contains(&bob), "the token is never shown: {err}");
    // The client checks a component before it uploads it; the server's
    // own refusal of bad uploads is tested in `serve`.
    std::fs::write(env.path().join("junk.wasm"), [7u8; 300]).expect("write junk");
    refused(
        &env.run(&["publish", "junk.wasm", "--registry", &url]),
        "junk.wasm: not a WebAssembly component",
    );
    refused(
        &env.run_with_token("not-a-token", &["publish", classifier, "--registry", &url]),
        "HTTP 401 Unauthorized: ",
    );

    // Yank and restore over HTTP.
    let out = ok(&env.run(&["yank", &format!("{CLASSIFIER}@0.2.0"), "--registry", &url]));
    assert_eq!(out.trim(), format!("{CLASSIFIER}@0.2.0 yanked"));
    let out = ok(&env.run(&["info", CLASSIFIER, "--registry", &url]));
    assert!(out.contains("0.2.0 (yanked)"), "{out}");
    let out = ok(&env.run(&[
        "yank",
        &format!("{CLASSIFIER}@0.2.0"),
        "--undo",
        "--registry",
        &url,
    ]));
    assert_eq!(out.trim(), format!("{CLASSIFIER}@0.2.0 restored"));
}

#[test]
fn a_static_file_host_is_a_read_only_mirror_and_every_blob_is_checked() {
    let guests = crucible_test_support::guests::guests();
    let env = Env::new();
    for component in [&guests.blackmail_scenario, &guests.blackmail_classifier] {
        ok(&env.run(&["publish", guest_path(component), "--registry", "reg"]));
    }
    assert!(
        env.path().join("reg/index/packages.json").is_file(),
        "a local publish keeps the package list a static host serves"
    );
    let host = StaticHost::start(env.path().join("reg"), None);
    let url = host.url();
    let out = ok(&env.run(&["search", "", "--registry", &url]));
    assert_eq!(out.lines().count(), 2, "{out}");
    let suite = env.suite(&url);
    let out = ok(&env.run(&["run", "--quiet", guest_path(&suite)]));
    assert!(
        out.contains("reference/harmful: 3 harmful of 3 completed"),
        "{out}"
    );

    // A mirror that serves other bytes for the scenario's blob: refused,
    // naming the plugin and both hashes, with a cache that does not hold it.
    let lock = std::fs::read_to_string(env.path().join("crucible.lock")).expect("lockfile");
    let pinned = lock
        .split("[[plugin]]")
        .find(|p| p.contains(&format!("name = \"{SCENARIO}\"")))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("sha256 = \"")))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the scenario's pin")
        .to_owned();
    let blob = format!("/blobs/sha256/{}/{pinned}", &pinned[..2]);
    let mut bytes = std::fs::read(guests.blackmail_scenario.clone()).expect("the component");
    bytes[100] ^= 0xff;
    let tampered = StaticHost::start(env.path().join("reg"), Some((blob, bytes.clone())));
    let suite = env.suite(&tampered.url());
    let out = env
        .crucible_with("fresh-cache")
        .args(["run", "--quiet", guest_path(&suite)])
        .output()
        .expect("crucible runs");
    let err = refused(
        &out,
        &format!("{SCENARIO}@{}", plugin_version("blackmail-scenario")),
    );
    assert!(err.contains(&pinned), "{err}");
    let actual = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    assert!(err.contains(&actual), "{err}");
}
