//! `leadflow console`: runs the web console, which is the `leadflow-console` binary of its own crate
//! (`crates/console`; it is built on this library, so this binary cannot link it).
//!
//! The process replaces itself with `leadflow-console` found next to its own executable, passing the
//! global options (`--config`, `--bootstrap-servers`) as flags and every argument after `console`
//! unchanged: the flags, `--help`, the exit code and the signals are the console's own. A missing
//! `leadflow-console` is an error naming the path looked at.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;
use leadflow_runtime::CommonArgs;

use crate::error::CliError;

/// The console's executable, installed beside `leadflow`.
pub const CONSOLE_BINARY: &str = "leadflow-console";

#[derive(Debug, Args)]
#[command(
    disable_help_flag = true,
    after_help = "Examples:
  leadflow console
  leadflow console --listen 127.0.0.1:8790 --refresh 5
  LEADFLOW_CONSOLE_TOKEN=$(cat /run/secrets/console) leadflow console --listen 0.0.0.0:8780 --allowed-host console.example.com"
)]
pub struct ConsoleArgs {
    /// The console's flags, passed to leadflow-console unchanged (see `leadflow console --help`).
    #[arg(
        value_name = "ARGS",
        num_args = 0..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<OsString>,
}

/// The path of `leadflow-console` beside the running executable.
pub fn console_binary() -> Result<PathBuf, CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::io("cannot find the leadflow executable's directory", e))?;
    Ok(exe.with_file_name(format!("{CONSOLE_BINARY}{}", std::env::consts::EXE_SUFFIX)))
}

/// The arguments `leadflow-console` gets: the global options given to `leadflow` (on its command
/// line or from their environment variables), then everything after `console`.
pub fn forwarded_args(common: &CommonArgs, args: &ConsoleArgs) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.args.len() + 4);
    if let Some(servers) = &common.bootstrap_servers {
        out.push("--bootstrap-servers".into());
        out.push(servers.into());
    }
    if let Some(config) = &common.config {
        out.push("--config".into());
        out.push(config.into());
    }
    out.extend(args.args.iter().cloned());
    out
}

/// Replaces this process with `leadflow-console`; returns only when that cannot be done.
pub fn run(common: &CommonArgs, args: &ConsoleArgs) -> Result<(), CliError> {
    let binary = console_binary()?;
    if !binary.is_file() {
        return Err(CliError::io(
            format!(
                "`leadflow console` runs {}, which is not installed (build it with `cargo build -p leadflow-console`, or install it beside leadflow)",
                binary.display()
            ),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let mut command = std::process::Command::new(&binary);
    command.args(forwarded_args(common, args));
    exec(command, &binary)
}

#[cfg(unix)]
fn exec(mut command: std::process::Command, binary: &std::path::Path) -> Result<(), CliError> {
    use std::os::unix::process::CommandExt;
    let e = command.exec();
    Err(CliError::io(format!("cannot run {}", binary.display()), e))
}

#[cfg(not(unix))]
fn exec(mut command: std::process::Command, binary: &std::path::Path) -> Result<(), CliError> {
    let status = command
        .status()
        .map_err(|e| CliError::io(format!("cannot run {}", binary.display()), e))?;
    std::process::exit(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    fn forwarded(argv: &[&str]) -> Vec<String> {
        let cli = Cli::try_parse_from(argv).expect("parses");
        let Command::Console(args) = &cli.command else {
            panic!("not the console: {cli:?}");
        };
        forwarded_args(&cli.common, args)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_argument_after_console_passes_unchanged() {
        assert_eq!(
            forwarded(&[
                "leadflow",
                "console",
                "--listen",
                "127.0.0.1:8790",
                "--allowed-host",
                "a.example",
                "--help",
            ]),
            [
                "--listen",
                "127.0.0.1:8790",
                "--allowed-host",
                "a.example",
                "--help"
            ]
        );
        assert!(forwarded(&["leadflow", "console"]).is_empty());
    }

    #[test]
    fn global_options_pass_as_flags_wherever_they_were_given() {
        let want = [
            "--bootstrap-servers",
            "b:9093",
            "--config",
            "x.toml",
            "--refresh",
            "5",
        ];
        assert_eq!(
            forwarded(&[
                "leadflow",
                "--bootstrap-servers",
                "b:9093",
                "--config",
                "x.toml",
                "console",
                "--refresh",
                "5",
            ]),
            want
        );
        // after `console`, the globals are the console's arguments like any other
        let after = forwarded(&[
            "leadflow",
            "console",
            "--bootstrap-servers",
            "b:9093",
            "--refresh",
            "5",
        ]);
        assert!(
            after == ["--bootstrap-servers", "b:9093", "--refresh", "5"],
            "{after:?}"
        );
    }
}
