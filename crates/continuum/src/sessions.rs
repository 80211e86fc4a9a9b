//! `continuum sessions create | get | list | revoke`: the backend plane from the shell. Answers
//! are printed as pretty JSON on stdout; refusals exit non-zero with the server's explanation.

use std::io::Write as _;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use continuum_core::Device;
use serde_json::{Map, Value};

use crate::credentials::KeyArgs;
use continuum_client::{ApiClient, CreateSession, Endpoint};

/// The server the client commands talk to unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7878";

/// Arguments of `continuum sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The server's base URL
    #[arg(
        long,
        env = "CONTINUUM_SERVER",
        value_name = "URL",
        default_value = DEFAULT_SERVER,
        global = true,
        display_order = 100
    )]
    pub server: String,
    /// Where the API key comes from.
    #[command(flatten)]
    pub key: KeyArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: SessionsCommand,
}

/// The subcommands of `continuum sessions`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Create a session and print {token, session}; the token is shown this once
    Create(CreateArgs),
    /// Print one session
    Get {
        /// The session id
        #[arg(allow_hyphen_values = true)]
        sid: String,
    },
    /// Print every session of a principal
    List {
        /// The principal (user id)
        #[arg(allow_hyphen_values = true)]
        principal: String,
    },
    /// Revoke a session; it stays as a tombstone until its absolute expiry
    Revoke {
        /// The session id
        #[arg(allow_hyphen_values = true)]
        sid: String,
    },
}

/// Arguments of `continuum sessions create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Owner of the session; anonymous (`anon:` and a random suffix) when absent.
    #[arg(long, help = "Owner of the session; anonymous (anon:<random>) when absent")]
    pub principal: Option<String>,
    /// Device label a person recognises, such as "Firefox on a laptop"
    #[arg(long)]
    pub label: Option<String>,
    /// Device user agent
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Idle timeout in seconds [default: the server's]
    #[arg(long, value_name = "SECS")]
    pub idle: Option<u64>,
    /// Absolute lifetime in seconds [default: the server's]
    #[arg(long, value_name = "SECS")]
    pub absolute: Option<u64>,
    /// An attribute as key=JSON, e.g. --attr plan='"pro"' --attr seats=3; repeatable
    #[arg(long = "attr", value_name = "KEY=JSON", value_parser = parse_attr)]
    pub attrs: Vec<(String, Value)>,
}

impl CreateArgs {
    /// The request body these arguments describe; a key given twice keeps its last value.
    pub fn body(&self) -> CreateSession {
        let device = (self.label.is_some() || self.user_agent.is_some())
            .then(|| Device { label: self.label.clone(), user_agent: self.user_agent.clone() });
        let attributes = (!self.attrs.is_empty()).then(|| self.attrs.iter().cloned().collect::<Map<_, _>>());
        CreateSession {
            principal: self.principal.clone(),
            device,
            attributes,
            idle_timeout_secs: self.idle,
            absolute_timeout_secs: self.absolute,
            sealed: false,
        }
    }
}

/// Parses `key=json`. The value must be JSON, so a string needs its quotes: `name='"Ada"'`.
pub fn parse_attr(text: &str) -> Result<(String, Value), String> {
    let (key, json) = text.split_once('=').ok_or_else(|| format!("expected KEY=JSON, got `{text}`"))?;
    if key.is_empty() {
        return Err("the attribute name is empty".to_owned());
    }
    let value = serde_json::from_str(json).map_err(|error| {
        format!("the value of `{key}` is not JSON ({error}); quote strings: {key}='\"{json}\"'")
    })?;
    Ok((key.to_owned(), value))
}

/// Runs `continuum sessions`.
pub async fn run(args: SessionsArgs) -> anyhow::Result<()> {
    let endpoint = Endpoint::parse(&args.server)?;
    let key = args.key.bearer()?;
    let mut client = ApiClient::new(endpoint.clone(), key);
    let answer = match &args.command {
        SessionsCommand::Create(create) => client.create(&create.body()).await,
        SessionsCommand::Get { sid } => client.get(sid).await,
        SessionsCommand::List { principal } => client.list(principal).await,
        SessionsCommand::Revoke { sid } => {
            client.revoke(sid).await.map(|()| serde_json::json!({ "revoked": sid }))
        }
    }
    .with_context(|| format!("{} failed", describe(&args.command, &endpoint)))?;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &answer)?;
    writeln!(stdout)?;
    Ok(())
}

fn describe(command: &SessionsCommand, endpoint: &Endpoint) -> String {
    match command {
        SessionsCommand::Create(_) => format!("creating a session on {endpoint}"),
        SessionsCommand::Get { sid } => format!("reading session {sid} on {endpoint}"),
        SessionsCommand::List { principal } => format!("listing the sessions of {principal:?} on {endpoint}"),
        SessionsCommand::Revoke { sid } => format!("revoking session {sid} on {endpoint}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_are_json_values() {
        assert_eq!(parse_attr("seats=3"), Ok(("seats".to_owned(), json!(3))));
        assert_eq!(parse_attr("plan=\"pro\""), Ok(("plan".to_owned(), json!("pro"))));
        assert!(parse_attr("a=b={}").unwrap_err().contains("quote strings"));
        assert_eq!(parse_attr("tags=[\"x\"]"), Ok(("tags".to_owned(), json!(["x"]))));
        assert!(parse_attr("plan").unwrap_err().contains("KEY=JSON"));
        assert!(parse_attr("=1").unwrap_err().contains("empty"));
        assert!(parse_attr("plan=pro").unwrap_err().contains("plan='\"pro\"'"));
    }

    #[test]
    fn create_body_sends_only_what_was_given() {
        let args = CreateArgs {
            principal: Some("alice".into()),
            label: Some("laptop".into()),
            user_agent: None,
            idle: Some(60),
            absolute: None,
            attrs: vec![("a".into(), json!(1)), ("a".into(), json!(2))],
        };
        let body = serde_json::to_value(args.body()).unwrap();
        assert_eq!(
            body,
            json!({"principal": "alice", "device": {"label": "laptop"}, "attributes": {"a": 2}, "idle_timeout_secs": 60})
        );
        let bare = CreateArgs {
            principal: None,
            label: None,
            user_agent: None,
            idle: None,
            absolute: None,
            attrs: vec![],
        };
        assert_eq!(serde_json::to_value(bare.body()).unwrap(), json!({}));
    }
}
