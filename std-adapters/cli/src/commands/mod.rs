//! One module per command group; each command turns parsed arguments into a [`Done`].

mod claim;
mod demo;
mod identity;
mod jcs;
mod sig;

use crate::cli::{ClaimCommand, Cli, Command, IdentityCommand, SigCommand};
use crate::output::{Done, Failure};

/// Runs the parsed command line.
pub(crate) fn run(cli: &Cli) -> Result<Done, Failure> {
    let json = cli.json;
    match &cli.command {
        Command::Identity(IdentityCommand::New(args)) => identity::new(args, json),
        Command::Identity(IdentityCommand::Show(args)) => identity::show(args, json),
        Command::Claim(ClaimCommand::Create(args)) => claim::create(args),
        Command::Claim(ClaimCommand::Verify(args)) => claim::verify(args, json),
        Command::Claim(ClaimCommand::Convert(args)) => claim::convert(args),
        Command::Jcs(args) => jcs::run(args),
        Command::Demo => demo::run(),
        Command::Sig(SigCommand::Verify(args)) => sig::verify(args, json),
    }
}
