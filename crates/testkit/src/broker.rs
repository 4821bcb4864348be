//! The shared local broker every broker test uses, named by `LEADFLOW_TEST_BOOTSTRAP`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable holding the test broker's `host:port`.
pub const BOOTSTRAP_ENV: &str = "LEADFLOW_TEST_BOOTSTRAP";

const HOW_TO_START: &str = "run scripts/test.sh, or scripts/broker.sh start and export \
                            LEADFLOW_TEST_BOOTSTRAP=127.0.0.1:9092";

/// The test broker's bootstrap servers. Panics when `LEADFLOW_TEST_BOOTSTRAP` is unset or the broker
/// does not answer, saying how to start one: a test that needs the broker never passes without it.
pub fn bootstrap() -> String {
    static CHECKED: OnceLock<String> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let value = match std::env::var(BOOTSTRAP_ENV) {
                Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
                _ => panic!(
                    "this test needs the local Kafka broker but {BOOTSTRAP_ENV} is not set: {HOW_TO_START}"
                ),
            };
            let first = value.split(',').next().unwrap_or_default().trim();
            if let Err(e) = kafka_answers(first, Duration::from_secs(5)) {
                panic!(
                    "this test needs the local Kafka broker but {BOOTSTRAP_ENV}={value} does not \
                     answer ({e}): {HOW_TO_START}"
                );
            }
            value
        })
        .clone()
}

/// Connects to `addr` (`host:port`) and checks it answers a Kafka ApiVersions request.
pub fn kafka_answers(addr: &str, timeout: Duration) -> Result<(), String> {
    let sockets: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .collect();
    let mut last = format!("{addr} resolves to no address");
    for socket in sockets {
        match probe(&socket, timeout) {
            Ok(()) => return Ok(()),
            Err(e) => last = format!("{socket}: {e}"),
        }
    }
    Err(last)
}

fn probe(socket: &std::net::SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(socket, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    // ApiVersions v0: size, api key 18, version 0, correlation id 42, client id "probe"
    let request: &[u8] = b"\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x05probe";
    stream.write_all(request).map_err(|e| e.to_string())?;
    let mut reply = [0u8; 10];
    stream
        .read_exact(&mut reply)
        .map_err(|e| format!("no Kafka reply: {e}"))?;
    let correlation = i32::from_be_bytes([reply[4], reply[5], reply[6], reply[7]]);
    let error = i16::from_be_bytes([reply[8], reply[9]]);
    if correlation != 42 || error != 0 {
        return Err(format!(
            "unexpected ApiVersions reply (correlation {correlation}, error {error})"
        ));
    }
    Ok(())
}
