//! [`TestKnobs`]: the hidden settings of `continuum serve` meant for tests only — a skewed
//! clock, and (feature `fault-modes`) a deliberately broken mode.
//!
//! They are flags with an environment variable each (`CONTINUUM_TEST_CLOCK_SKEW_MS`,
//! `CONTINUUM_TEST_FAULT_MODE`), hidden from `--help`, and deliberately not configuration
//! layers: no TOML key, no `[…]` table, nothing a production file could set by accident. A
//! node started with one logs it at start (WARN for a skew, ERROR for a fault mode).

#[cfg(feature = "fault-modes")]
use continuum_backends::FaultMode;
use continuum_backends::OpenOptions;
use continuum_server::ServerConfig;

/// The variable of `--clock-skew-ms`.
pub const CLOCK_SKEW_VARIABLE: &str = "CONTINUUM_TEST_CLOCK_SKEW_MS";

/// The variable of `--fault-mode`. A build without the feature refuses to start when it is
/// set (see [`refuse_unbuilt_fault_mode`]), rather than run healthy where a broken node was
/// asked for.
pub const FAULT_MODE_VARIABLE: &str = "CONTINUUM_TEST_FAULT_MODE";

/// Hidden `serve` flags for tests (flattened into `ServeArgs`).
#[derive(Debug, Default, clap::Args)]
pub struct TestKnobs {
    /// Tests only: milliseconds added to every clock of this node (the server's and a
    /// replicated store's); negative runs behind
    #[arg(
        long,
        hide = true,
        allow_hyphen_values = true,
        value_name = "MS",
        env = "CONTINUUM_TEST_CLOCK_SKEW_MS"
    )]
    pub clock_skew_ms: Option<i64>,
    /// Tests only: break this node on purpose (ack-before-write, drop-copies,
    /// ignore-revocations)
    #[cfg(feature = "fault-modes")]
    #[arg(long, hide = true, value_name = "MODE", env = "CONTINUUM_TEST_FAULT_MODE")]
    pub fault_mode: Option<FaultMode>,
}

impl TestKnobs {
    /// The skew asked for, 0 for none.
    pub fn clock_skew_ms(&self) -> i64 {
        self.clock_skew_ms.unwrap_or(0)
    }

    /// Logs what is set: a WARN naming the skew, an ERROR naming the fault mode.
    pub fn announce(&self) {
        let skew_ms = self.clock_skew_ms();
        if skew_ms != 0 {
            tracing::warn!(
                skew_ms,
                "clock skew {skew_ms} ms: every clock of this node is deliberately wrong (tests only)"
            );
        }
        #[cfg(feature = "fault-modes")]
        if let Some(mode) = self.fault_mode {
            tracing::error!(%mode, "fault mode {mode}: this node is deliberately broken (tests only)");
        }
    }

    /// Puts the skew into the server's configuration and the store's options, and the fault
    /// mode into the store's options.
    pub fn apply(&self, server: &mut ServerConfig, options: &mut OpenOptions) {
        server.clock_skew_ms = self.clock_skew_ms();
        options.clock_skew_ms = self.clock_skew_ms();
        #[cfg(feature = "fault-modes")]
        {
            options.fault = self.fault_mode;
        }
    }
}

/// In a build without the feature `fault-modes`: an error when `value` (the variable
/// [`FAULT_MODE_VARIABLE`]) asks for a fault mode. `--fault-mode` itself is an unknown flag
/// there.
#[cfg(not(feature = "fault-modes"))]
pub fn refuse_unbuilt_fault_mode(value: Option<&str>) -> anyhow::Result<()> {
    match value.map(str::trim) {
        Some(mode) if !mode.is_empty() => anyhow::bail!(
            "{FAULT_MODE_VARIABLE}={mode} asks for a fault mode, but this build has none (they exist \
             only in test builds, with the cargo feature `fault-modes`)"
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};

    fn serve(args: &[&str]) -> Result<crate::serve::ServeArgs, clap::Error> {
        let cli = Cli::try_parse_from([&["continuum", "serve"], args].concat())?;
        let Command::Serve(args) = cli.command else { panic!("parsed as serve") };
        Ok(args)
    }

    #[test]
    fn the_skew_is_signed_and_absent_by_default() {
        assert_eq!(serve(&["--clock-skew-ms", "-7200000"]).unwrap().test.clock_skew_ms(), -7_200_000);
        assert_eq!(serve(&["--clock-skew-ms", "7200000"]).unwrap().test.clock_skew_ms(), 7_200_000);
        assert_eq!(serve(&[]).unwrap().test.clock_skew_ms(), 0);
        assert!(serve(&["--clock-skew-ms", "2h"]).is_err());
    }

    #[test]
    fn the_skew_reaches_the_server_and_the_store() {
        let args = serve(&["--clock-skew-ms", "-1500"]).unwrap();
        let mut server = continuum_server::ServerConfig::new(".");
        let mut options = continuum_backends::OpenOptions::default();
        args.test.apply(&mut server, &mut options);
        assert_eq!((server.clock_skew_ms, options.clock_skew_ms), (-1500, -1500));
    }

    #[cfg(feature = "fault-modes")]
    #[test]
    fn fault_modes_parse_by_name_and_an_unknown_one_lists_them() {
        use continuum_backends::FaultMode;
        for mode in FaultMode::ALL {
            assert_eq!(serve(&["--fault-mode", mode.name()]).unwrap().test.fault_mode, Some(mode));
        }
        let error = serve(&["--fault-mode", "x"]).unwrap_err().to_string();
        assert!(error.contains("ack-before-write, drop-copies, ignore-revocations"), "{error}");
    }

    #[cfg(not(feature = "fault-modes"))]
    #[test]
    fn without_the_feature_there_is_no_fault_mode_flag_and_the_variable_is_refused() {
        let error = serve(&["--fault-mode", "ack-before-write"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument, "{error}");
        let refused = super::refuse_unbuilt_fault_mode(Some("ack-before-write")).unwrap_err().to_string();
        assert!(
            refused.contains("CONTINUUM_TEST_FAULT_MODE") && refused.contains("fault-modes"),
            "{refused}"
        );
        super::refuse_unbuilt_fault_mode(Some(" ")).expect("empty is unset");
        super::refuse_unbuilt_fault_mode(None).expect("unset");
    }
}
