//! `continuum keys path | new`: the backend-plane API key file of a data directory.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use continuum_server::api_keys;

use crate::config::DEFAULT_DATA;

/// Arguments of `continuum keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The data directory whose key file to use
    #[arg(long, env = "CONTINUUM_DATA", value_name = "DIR", default_value = DEFAULT_DATA, global = true)]
    pub data: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// The subcommands of `continuum keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print the path of the key file (it may not exist yet)
    Path,
    /// Add a new key to the key file (creating it, mode 0600) and print the key on stdout; a
    /// running server reads the file at start, so restart it to accept the new key
    New,
}

/// Runs `continuum keys`.
pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match args.command {
        KeysCommand::Path => {
            writeln!(stdout, "{}", api_keys::key_file_path(&args.data).display())?;
        }
        KeysCommand::New => {
            let (key, path) = api_keys::add_key(&args.data).context("cannot add an API key")?;
            // The key goes to stdout only because it was asked for explicitly; the path, which is
            // not secret, goes to stderr so that `KEY=$(continuum keys new)` captures the key alone.
            writeln!(stdout, "{key}")?;
            eprintln!("added a key to {}", path.display());
        }
    }
    Ok(())
}
