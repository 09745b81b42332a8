//! A real S3-compatible server on 127.0.0.1 for the object storage tests:
//! moto's standalone server (`moto_server`, pinned in tests/s3 and installed
//! by `make s3`), on a port the kernel picks, started for a test and killed when the
//! handle drops. It answers the S3 REST API as AWS documents it, path-style,
//! so the host's real client (object_store) talks to it unchanged.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::guests::workspace_root;

/// How long moto may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(60);

/// A running moto server; killed on drop.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

/// The credentials the tests give the host (AWS's documented examples):
/// moto takes any.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// moto's server in the venv `make s3` makes.
pub fn moto_server() -> PathBuf {
    workspace_root().join("tests/s3/.venv/bin/moto_server")
}

impl S3Server {
    /// Starts moto on a free port and waits until it answers.
    pub fn start() -> Self {
        let binary = moto_server();
        assert!(
            binary.is_file(),
            "{} is missing: run `make s3` (it installs moto's server, pinned in tests/s3/requirements.txt)",
            binary.display()
        );
        // moto binds a port of the kernel's choosing (`-p 0`) and names it
        // on stderr: a port picked here and handed over could be taken by
        // another process (a second test run) before moto binds it.
        let mut child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto_server starts");
        let stderr = child.stderr.take().expect("moto's stderr is piped");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // The reader drains stderr for moto's whole life (it logs every
        // request there), so the pipe never fills.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split_once("Running on http://127.0.0.1:")
                    .and_then(|(_, rest)| rest.trim().parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
            }
        });
        let port = port_rx
            .recv_timeout(STARTUP)
            .unwrap_or_else(|_| panic!("moto_server did not say its port within {STARTUP:?}"));
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while !answers(address) {
            assert!(
                started.elapsed() < STARTUP,
                "moto_server did not answer on {address} within {STARTUP:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The environment the host reads its S3 client's settings from.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// Creates a bucket (S3's CreateBucket: `PUT /BUCKET`; moto takes any
    /// credentials, so the request goes unsigned).
    pub fn create_bucket(&self, bucket: &str) {
        let status = request(&self.endpoint, "PUT", &format!("/{bucket}"));
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "CreateBucket {bucket}: {status}"
        );
    }

    /// The keys in `bucket` under `prefix` (S3's ListObjectsV2), as moto
    /// lists them: the `<Key>` elements of its XML answer.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let answer = request_body(
            &self.endpoint,
            "GET",
            &format!("/{bucket}?list-type=2&prefix={prefix}"),
        );
        answer
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn answers(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok_and(|mut stream| {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .is_ok()
            && stream.read(&mut [0u8; 16]).is_ok_and(|n| n > 0)
    })
}

/// The status line of a bodiless request.
fn request(endpoint: &str, method: &str, path: &str) -> String {
    let answer = request_body(endpoint, method, path);
    answer.lines().next().unwrap_or_default().to_owned()
}

/// The whole answer (status line, headers and body) to a bodiless request.
fn request_body(endpoint: &str, method: &str, path: &str) -> String {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("moto answers");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}
