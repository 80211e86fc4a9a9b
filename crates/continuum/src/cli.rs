//! The command line: [`Cli`] and its subcommands; each subcommand's arguments live with its module.

use clap::{Parser, Subcommand};

use crate::bench::BenchArgs;
use crate::edge::EdgeArgs;
use crate::gateway::GatewayArgs;
use crate::keys::KeysArgs;
use crate::serve::ServeArgs;
use crate::sessions::SessionsArgs;

/// Continuum: login sessions and continuity as a service.
#[derive(Debug, Parser)]
#[command(name = "continuum", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `continuum`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the session server.
    Serve(ServeArgs),
    /// Route requests to nodes by session or document, failing over to the next owner.
    Gateway(GatewayArgs),
    /// Serve the client plane close to users: sessions from a cache the origin keeps honest
    Edge(EdgeArgs),
    /// Create, read, list and revoke sessions on a running server.
    Sessions(SessionsArgs),
    /// Show or add backend-plane API keys in a data directory's key file.
    Keys(KeysArgs),
    /// Load-test a running server and report throughput and latency.
    Bench(BenchArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn session_ids_and_principals_may_start_with_a_hyphen() {
        // One random base64url session id in 64 starts with '-'; the CLI must take it as a value.
        for (command, value) in [("get", "-xAbc"), ("revoke", "-xAbc"), ("list", "-alice")] {
            let cli = Cli::try_parse_from(["continuum", "sessions", command, value])
                .unwrap_or_else(|error| panic!("{command} {value}: {error}"));
            let Command::Sessions(args) = cli.command else { panic!("parsed as sessions") };
            let parsed = match args.command {
                crate::sessions::SessionsCommand::Get { sid }
                | crate::sessions::SessionsCommand::Revoke { sid } => sid,
                crate::sessions::SessionsCommand::List { principal } => principal,
                crate::sessions::SessionsCommand::Create(_) => panic!("not create"),
            };
            assert_eq!(parsed, value);
        }
    }
}
