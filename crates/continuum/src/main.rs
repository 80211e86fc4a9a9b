//! The `continuum` binary: parses the command line, starts tracing and hands over to the library.

use std::process::ExitCode;

use clap::Parser as _;
use continuum::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    continuum::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(continuum::dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line: "what failed: why: root cause".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
