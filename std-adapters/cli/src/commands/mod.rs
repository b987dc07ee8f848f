//! One module per command group; each command turns parsed arguments into a [`Done`].

mod chat;
mod claim;
mod demo;
mod endpoints;
mod identity;
mod jcs;
mod publish;
mod sig;
mod sigchain;
mod verify;

use crate::cli::{
    ChatCommand, ClaimCommand, Cli, Command, IdentityCommand, SigCommand, SigchainCommand,
    VerifyCommand,
};
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
        Command::Claim(ClaimCommand::Publish(args)) => publish::publish(args, json),
        Command::Sigchain(SigchainCommand::New(args)) => sigchain::new(args, json),
        Command::Sigchain(SigchainCommand::Add(args)) => sigchain::add(args),
        Command::Sigchain(SigchainCommand::Revoke(args)) => sigchain::revoke(args, json),
        Command::Sigchain(SigchainCommand::Rotate(args)) => sigchain::rotate(args, json),
        Command::Sigchain(SigchainCommand::AddDevice(args)) => sigchain::add_device(args, json),
        Command::Sigchain(SigchainCommand::RemoveDevice(args)) => {
            sigchain::remove_device(args, json)
        }
        Command::Sigchain(SigchainCommand::Show(args)) => sigchain::show(args),
        Command::Sigchain(SigchainCommand::Export(args)) => sigchain::export(args),
        Command::Sigchain(SigchainCommand::Verify(args)) => sigchain::verify(args, json),
        Command::Jcs(args) => jcs::run(args),
        Command::Chat(ChatCommand::Send(args)) => chat::send(args, json),
        Command::Chat(ChatCommand::SendFile(args)) => chat::send_file(args, json),
        Command::Chat(ChatCommand::Listen(args)) => chat::listen(args, json),
        Command::Chat(ChatCommand::Inbox(args)) => chat::inbox(args, json),
        Command::Demo => demo::run(),
        Command::Sig(SigCommand::Verify(args)) => sig::verify(args, json),
        Command::Verify(VerifyCommand::Id(args)) => verify::id(args, json),
    }
}
