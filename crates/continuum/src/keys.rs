//! `continuum keys path | new`: the backend-plane API key file of a data directory;
//! `continuum keys sealing path | list | rotate | retire <id>`: its sealing key file;
//! `continuum keys data path | list | rotate`: its data key file (encryption at rest).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use continuum_backends::data_keys;
use continuum_server::{api_keys, sealing_keys};

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
    /// The sealing keys of sealed sessions (<data>/sealing-keys; the first seals, every key opens)
    #[command(subcommand)]
    Sealing(SealingCommand),
    /// The data keys of encryption at rest (<data>/data-keys; the first encrypts, every key
    /// decrypts)
    #[command(subcommand)]
    Data(DataCommand),
}

/// The subcommands of `continuum keys data`. A running server reads the file at start: restart
/// it after a change. Losing a key loses what it encrypted: back the file up with the store.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Print the path of the data key file (it may not exist yet)
    Path,
    /// Print the id of every data key, the encrypting one first (never the keys themselves)
    List,
    /// Put a new key first: it encrypts what is written from the next start on, the others
    /// keep decrypting what they encrypted; prints the new key's id
    Rotate,
}

/// The subcommands of `continuum keys sealing`. A running server reads the file at start: restart
/// it after a change. Nodes sharing sealed tokens need the same keys (`sealing_keys` in their
/// configuration).
#[derive(Debug, Subcommand)]
pub enum SealingCommand {
    /// Print the path of the sealing key file (it may not exist yet)
    Path,
    /// Print the id of every sealing key, the sealing one first (never the keys themselves)
    List,
    /// Put a new key first: it seals from the next start on, the others keep opening, so nobody
    /// is signed out; prints the new key's id
    Rotate,
    /// Remove a key that no longer seals: tokens sealed with it are refused from the next start on
    Retire {
        /// The key's id (8 hex digits, from `list`)
        id: String,
    },
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
        KeysCommand::Sealing(command) => sealing(&args.data, command, &mut stdout)?,
        KeysCommand::Data(command) => data(&args.data, command, &mut stdout)?,
    }
    Ok(())
}

fn data(
    data_dir: &std::path::Path,
    command: DataCommand,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    match command {
        DataCommand::Path => writeln!(out, "{}", data_keys::key_file_path(data_dir).display())?,
        DataCommand::List => {
            let path = data_keys::key_file_path(data_dir);
            let keys = data_keys::read_keys(&path).context("cannot read the data keys")?;
            let keys = keys.with_context(|| format!("no data key file at {}", path.display()))?;
            for (i, key) in keys.iter().enumerate() {
                writeln!(out, "{}{}", key.id(), if i == 0 { " (encrypts)" } else { "" })?;
            }
        }
        DataCommand::Rotate => {
            let (id, path) = data_keys::rotate(data_dir).context("cannot rotate the data keys")?;
            writeln!(out, "{id}")?;
            eprintln!("key {id} now encrypts; the others in {} still decrypt", path.display());
        }
    }
    Ok(())
}

fn sealing(
    data: &std::path::Path,
    command: SealingCommand,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    match command {
        SealingCommand::Path => writeln!(out, "{}", sealing_keys::key_file_path(data).display())?,
        SealingCommand::List => {
            let path = sealing_keys::key_file_path(data);
            let keys = sealing_keys::read_keys(&path).context("cannot read the sealing keys")?;
            let keys = keys.with_context(|| format!("no sealing key file at {}", path.display()))?;
            for (i, key) in keys.iter().enumerate() {
                writeln!(out, "{}{}", key.id(), if i == 0 { " (seals)" } else { "" })?;
            }
        }
        SealingCommand::Rotate => {
            let (id, path) = sealing_keys::rotate(data).context("cannot rotate the sealing keys")?;
            writeln!(out, "{id}")?;
            eprintln!("key {id} now seals; the others in {} still open", path.display());
        }
        SealingCommand::Retire { id } => {
            let path = sealing_keys::retire(data, &id).context("cannot retire the sealing key")?;
            eprintln!("removed key {id} from {}", path.display());
        }
    }
    Ok(())
}
