//! `local-cognito serve` spoken to by a real client: boto3 (botocore's model of the Cognito API)
//! runs a CUSTOM_AUTH sign-in with a wrong then a right code, checks sessions are single use,
//! verifies the ID token against the served JWKS, refreshes, and gets Cognito's exceptions for a
//! wrong client, a forged refresh token and too many wrong answers (`tests/clients/`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use integration_tests::{binary, binary_dir};

/// A running `local-cognito serve`, stopped when dropped.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let mut child = Command::new(binary("local-cognito"))
        .args(["serve", "--port", "0", "--bin-dir"])
        .arg(binary_dir())
        .env_remove("CARGO")
        .env_remove("SMS_PROVIDER")
        .env_remove("AUTH_FLOW")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("Cognito user-pool API on ") {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_owned();
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

#[test]
fn boto3_signs_in_and_the_id_token_verifies_against_the_served_keys() {
    let server = start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/boto3_sign_in.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&server.url)
        .arg("localclient0000000000000000")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("boto3 sign-in: OK"), "{text}");
}
