//! `continuum`: the one binary of Continuum — run a server or a gateway, manage sessions and API
//! keys from the shell, and load-test a running server.
//!
//! # Layout
//! - [`cli`]: the command line ([`cli::Cli`]), one subcommand per job.
//! - [`logging`]: tracing to stderr, filtered by `CONTINUUM_LOG` or `RUST_LOG`.
//! - [`config`]: the `serve` configuration from defaults, a TOML file, `CONTINUUM_*` variables and
//!   flags, merged by a pure function.
//! - [`serve`]: `continuum serve`: bind, run the server, stop on Ctrl-C or SIGTERM.
//! - [`gateway`]: `continuum gateway`: the affinity gateway's flags, bind, run.
//! - [`edge`]: `continuum edge`: an edge of an origin: flags, bind, run.
//! - [`test_knobs`]: `serve`'s hidden settings for tests only: a skewed clock and (feature
//!   `fault-modes`) a deliberately broken mode.
//! - [`shutdown`]: the future that completes on Ctrl-C or SIGTERM.
//! - [`credentials`]: where a client command finds its API key (flag, environment, key file).
//! - [`sessions`]: `continuum sessions create | get | list | revoke`.
//! - [`keys`]: `continuum keys path | new`.
//! - [`bench`](mod@bench): `continuum bench`'s flags, over the `continuum-bench` load generator.
//!
//! The HTTP client of the client commands is the `continuum-client` crate.
//!
//! # Main flow
//! `main` parses [`cli::Cli`], calls [`logging::init`] and runs [`dispatch`] on a tokio runtime;
//! [`dispatch`] hands the subcommand to its module. Every error reaches `main` with its cause
//! chain, which is printed on one line before a non-zero exit.

pub mod bench;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod edge;
pub mod gateway;
pub mod keys;
pub mod logging;
pub mod serve;
pub mod sessions;
pub mod shutdown;
pub mod test_knobs;

use cli::{Cli, Command};

/// Runs the command `cli` names.
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Gateway(args) => gateway::run(args).await,
        Command::Edge(args) => edge::run(args).await,
        Command::Sessions(args) => sessions::run(args).await,
        Command::Keys(args) => keys::run(args),
        Command::Bench(args) => bench::run(args).await,
    }
}
