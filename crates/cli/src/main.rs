//! `leadflow`: see `leadflow --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = leadflow_cli::Cli::parse();
    match leadflow_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
