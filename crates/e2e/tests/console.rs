#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow console` as installed: the `leadflow` binary runs `leadflow-console` from its own
//! directory with the same arguments. Its help is the console's, it serves the exception queue from
//! the broker, and SIGTERM sent to the process `leadflow console` started stops the console cleanly
//! (the process became the console). The console's own behaviour: `crates/console/tests/console.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leadflow_e2e::bin;
use leadflow_testkit::{bootstrap, create_topic, unique_name};

fn leadflow(env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(bin("leadflow"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// The status code and body of a GET, or None when nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    let status = reply.split(' ').nth(1)?.parse().ok()?;
    Some((status, reply))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadflow_console_is_the_console_binary_with_the_same_arguments() {
    let help = leadflow(&[]).args(["console", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--listen",
        "--refresh",
        "--token-file",
        "--allowed-host",
        "--config",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
    assert!(text.contains("leadflow console"), "{text}");

    let bs = bootstrap();
    let (exceptions, state) = (unique_name("exceptions"), unique_name("exceptions-state"));
    for t in [&exceptions, &state] {
        create_topic(&bs, t, 1).await;
    }
    let env = vec![
        ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
        ("LEADFLOW_TOPICS__EXCEPTIONS".to_owned(), exceptions),
        ("LEADFLOW_TOPICS__EXCEPTIONS_STATE".to_owned(), state),
    ];
    let refused = leadflow(&env)
        .args(["console", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a loopback address"));

    let port = leadflow_testkit::free_port();
    let mut child = leadflow(&env)
        .args(["console", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(port, "/healthz").map(|(s, _)| s) != Some(200) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the console did not come up: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, page) = get(port, "/exceptions").unwrap();
    assert_eq!(status, 200, "{page}");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "SIGTERM stops the console cleanly: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("leadflow console on http://127.0.0.1:"),
        "{out:?}"
    );
    assert!(get(port, "/healthz").is_none(), "nothing serves any more");
}
