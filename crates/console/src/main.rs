//! `leadflow-console`, also run as `leadflow console`: see `leadflow console --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = leadflow_console::ConsoleCli::parse();
    match leadflow_console::run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
