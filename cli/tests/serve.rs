//! `framescope serve` as a user runs it: the real binary on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_framescope");

fn temp_dist(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("framescope-serve-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!DOCTYPE html><title>t</title>").unwrap();
    dir
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dist: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--dist"])
        .arg(dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("unexpected first line: {line:?}"));
    Server { child, port }
}

fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serves_the_dashboard_cross_origin_isolated() {
    let server = start(&temp_dist("ok"));
    let response = get(server.port, "/").to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 200"), "{response}");
    assert!(
        response.contains("cross-origin-opener-policy: same-origin"),
        "{response}"
    );
    assert!(
        response.contains("cross-origin-embedder-policy: require-corp"),
        "{response}"
    );
}

#[test]
fn missing_dashboard_is_a_one_line_error_naming_the_build_command() {
    let empty = std::env::temp_dir().join(format!("framescope-serve-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(BIN)
        .args(["serve", "--port", "0", "--dist"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("./dev build"), "{stderr}");
}

#[test]
fn taken_port_is_a_one_line_error() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let output = Command::new(BIN)
        .args(["serve", "--port", &port.to_string(), "--dist"])
        .arg(temp_dist("taken"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
}
