//! `kez`: the KEZ command-line tool. A thin shell over `kez-core`: argument parsing, files,
//! clock and randomness here; every protocol decision in the core.

mod cli;
mod commands;
mod files;
mod input;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match cli::Cli::try_parse_from(&args) {
        Ok(cli) => output::finish(commands::run(&cli), cli.json),
        Err(e) => output::clap_error(&e, wants_json(&args)),
    }
}

/// Whether `--json` was given, for reporting an error clap found before it could tell.
fn wants_json(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}
