#![cfg(unix)]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow console` runs the `leadflow-console` binary found next to its own executable, with the
//! same arguments, environment and exit code; without it, it fails naming the path it looked for.
//! A copy of `leadflow` is put in a directory of its own beside a stand-in `leadflow-console` (a
//! shell script that prints what it was given). The real console behind it:
//! `crates/console/tests/console.rs`, and `crates/e2e/tests/console.rs` through `leadflow console`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");

/// A fresh directory holding a copy of `leadflow` (hard-linked when the file system allows).
fn install_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("console-forward-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("leadflow");
    if std::fs::hard_link(BIN, &copy).is_err() {
        std::fs::copy(BIN, &copy).unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(dir.join("leadflow"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_CONSOLE_TOKEN", "a-token-for-the-stand-in")
        .args(args)
        .output()
        .expect("leadflow runs")
}

#[test]
fn leadflow_console_runs_the_sibling_binary_with_the_same_arguments() {
    let dir = install_dir("sibling");
    let stand_in = dir.join("leadflow-console");
    std::fs::write(
        &stand_in,
        "#!/bin/sh\nfor a in \"$@\"; do echo \"arg:$a\"; done\necho \"token:$LEADFLOW_CONSOLE_TOKEN\"\nexit 7\n",
    )
    .unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = run(
        &dir,
        &[
            "--config",
            "leadflow.toml",
            "console",
            "--listen",
            "127.0.0.1:8790",
            "--allowed-host",
            "console.example.com",
            "--help",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "arg:--config",
            "arg:leadflow.toml",
            "arg:--listen",
            "arg:127.0.0.1:8790",
            "arg:--allowed-host",
            "arg:console.example.com",
            "arg:--help",
            "token:a-token-for-the-stand-in",
        ],
        "{out:?}"
    );
    assert_eq!(out.status.code(), Some(7), "the console's exit code");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_the_console_binary_leadflow_console_names_what_is_missing() {
    let dir = install_dir("missing");
    let out = run(&dir, &["console", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let missing = dir.join("leadflow-console");
    assert!(
        stderr.contains(&*missing.to_string_lossy())
            && stderr.contains("cargo build -p leadflow-console"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
