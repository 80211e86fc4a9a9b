//! [`BenchArgs`]: the arguments of `continuum bench`, and the [`BenchOptions`] they stand for.

use std::time::Duration;

use clap::Args;
use continuum_bench::duration::parse_duration;
use continuum_bench::options::{
    MAX_CONNECTIONS, MAX_DURATION, MAX_INTERVAL, MAX_PIPELINE, MAX_ROUNDS, MAX_SESSIONS, MAX_SOCKETS,
    MAX_UPDATES,
};
use continuum_bench::{BenchOptions, Scenario};

use crate::credentials::KeyArgs;
use crate::sessions::DEFAULT_SERVER;

/// Arguments of `continuum bench`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Each connection is one HTTP/1.1 keep-alive connection in a closed loop: it sends its next request
as soon as the previous answer is in. Only loopback servers are accepted. The table reports req/s,
latency percentiles, the ratio to `hello` (when hello ran earlier in the same run) and errors (any
answer that is not 2xx, by status, plus io/timeout/connect). With --json, one JSON object per
scenario is printed instead, one per line.

The document scenarios (doc-updates, fanout, reconnect, doc-memory, burst) open y-websocket sockets on
/v1/sync as sessions the bench creates (16 sockets per session, the server's default limit), and
print one line each (a small table for reconnect). Thousands of sockets need as many open files:
the bench raises its soft limit to the hard limit, and the server needs the same (ulimit -n).")]
pub struct BenchArgs {
    /// The server's base URL (a loopback address)
    #[arg(long, env = "CONTINUUM_SERVER", value_name = "URL", default_value = DEFAULT_SERVER)]
    pub url: String,
    /// Where the API key comes from.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Scenarios to run one after another, comma-separated
    #[arg(long = "scenario", value_enum, value_delimiter = ',', default_value = "hello,validate")]
    pub scenarios: Vec<Scenario>,
    /// Concurrent connections (each its own keep-alive connection); for doc-updates, writer
    /// sockets (at most 256); for fanout and doc-memory, sockets opened at a time
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=MAX_CONNECTIONS as i64))]
    pub connections: u16,
    /// Measurement window of each timed scenario, such as 10s, 1m or 1m30s
    #[arg(long, default_value = "10s", value_parser = parse_window)]
    pub duration: Duration,
    /// Warm-up before each window, not measured
    #[arg(long, default_value = "1s", value_parser = parse_window)]
    pub warmup: Duration,
    /// Timed scenarios given next to each other (hello, validate, create, patch) take turns this
    /// many times, each turn measuring duration/N after its own warm-up; their figures are
    /// summed. Spreads a slow stretch of a shared machine over all of them, for steadier ratios
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=MAX_ROUNDS))]
    pub rounds: u16,
    /// Sessions to create first: the pool for validate and patch [default: 1000], the sessions
    /// idle-memory creates [default: 100000], or the documents doc-memory opens [default: 2000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_SESSIONS as u64))]
    pub sessions: Option<u64>,
    /// fanout and burst: reader sockets on the one document
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=MAX_SOCKETS as i64))]
    pub sockets: u32,
    /// fanout and burst: updates the writer sends; reconnect: updates in the document before the first sync
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=MAX_UPDATES as i64))]
    pub updates: u32,
    /// fanout: time between two updates, such as 20ms
    #[arg(long, value_name = "DURATION", default_value = "20ms", value_parser = parse_interval)]
    pub interval: Duration,
    /// reconnect: updates missed before each reconnect, comma-separated
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_value = "0,1,10,100", value_parser = clap::value_parser!(u32).range(0..=MAX_UPDATES as i64))]
    pub missed: Vec<u32>,
    /// doc-updates: updates each writer keeps unacknowledged; 1 waits for each ack before sending
    /// the next
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=MAX_PIPELINE as i64))]
    pub pipeline: u16,
    /// burst: the server's process id, to read its CPU time from /proc (a local server only)
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Print one JSON object per scenario instead of the table
    #[arg(long)]
    pub json: bool,
}

fn parse_window(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration > MAX_DURATION {
        return Err(format!("at most {}s", MAX_DURATION.as_secs()));
    }
    Ok(duration)
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = parse_duration(text)?;
    if interval.is_zero() || interval > MAX_INTERVAL {
        return Err(format!("between 1ms and {}s", MAX_INTERVAL.as_secs()));
    }
    Ok(interval)
}

impl BenchArgs {
    /// The options of the run these arguments ask for.
    pub fn options(&self) -> BenchOptions {
        BenchOptions {
            scenarios: self.scenarios.clone(),
            connections: self.connections,
            duration: self.duration,
            warmup: self.warmup,
            rounds: self.rounds,
            sessions: self.sessions,
            sockets: self.sockets,
            updates: self.updates,
            interval: self.interval,
            missed: self.missed.clone(),
            pipeline: self.pipeline,
            server_pid: self.server_pid,
            json: self.json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        let argv = std::iter::once("bench").chain(args.iter().copied());
        Harness::try_parse_from(argv).map(|harness| harness.bench)
    }

    #[test]
    fn scenario_names_match_the_command_line() {
        use clap::ValueEnum as _;
        assert_eq!(Scenario::value_variants(), Scenario::ALL);
        for scenario in Scenario::value_variants() {
            assert_eq!(Scenario::from_str(scenario.name(), false), Ok(*scenario));
        }
        assert!(Scenario::from_str("validate ", false).is_err());
        assert!(Scenario::from_str("idle_memory", false).is_err());
    }

    #[test]
    fn no_flags_are_the_library_defaults() {
        assert_eq!(parse(&[]).unwrap().options(), BenchOptions::default());
    }

    #[test]
    fn defaults() {
        let args = parse(&[]).unwrap().options();
        assert_eq!(args.scenarios, [Scenario::Hello, Scenario::Validate]);
        assert_eq!(args.connections, 64);
        assert_eq!((args.duration, args.warmup), (Duration::from_secs(10), Duration::from_secs(1)));
        assert_eq!(args.sessions_for(Scenario::Validate), 1000);
        assert_eq!(args.sessions_for(Scenario::IdleMemory), 100_000);
        assert!(!args.json);
    }

    #[test]
    fn scenarios_are_a_comma_separated_ordered_list() {
        let args = parse(&["--scenario", "patch,hello", "--scenario", "idle-memory", "--sessions", "5"])
            .unwrap()
            .options();
        assert_eq!(args.scenarios, [Scenario::Patch, Scenario::Hello, Scenario::IdleMemory]);
        assert_eq!(args.sessions_for(Scenario::IdleMemory), 5);
        let error = parse(&["--scenario", "validate,login"]).unwrap_err().to_string();
        assert!(error.contains("login") && error.contains("possible values"), "{error}");
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--connections", "5000"]).is_err());
        assert!(parse(&["--duration", "2h"]).unwrap_err().to_string().contains("at most 3600s"));
        assert!(parse(&["--sessions", "0"]).is_err());
        assert_eq!(parse(&["--duration", "1m30s"]).unwrap().duration, Duration::from_secs(90));
    }

    #[test]
    fn document_scenarios_have_bounded_defaults() {
        let args = parse(&["--scenario", "doc-updates,fanout,reconnect,doc-memory"]).unwrap().options();
        assert_eq!(
            args.scenarios,
            [Scenario::DocUpdates, Scenario::Fanout, Scenario::Reconnect, Scenario::DocMemory]
        );
        assert_eq!((args.sockets, args.updates, args.pipeline), (1000, 200, 1));
        assert_eq!(args.interval, Duration::from_millis(20));
        assert_eq!(args.missed, [0, 1, 10, 100]);
        assert_eq!(args.sessions_for(Scenario::DocMemory), 2000);
        let args = parse(&["--missed", "5,50", "--interval", "5ms", "--sockets", "10000"]).unwrap();
        assert_eq!(
            (args.missed.as_slice(), args.interval, args.sockets),
            (&[5, 50][..], Duration::from_millis(5), 10_000)
        );
        assert!(parse(&["--sockets", "10001"]).is_err());
        assert!(parse(&["--updates", "0"]).is_err());
        assert!(parse(&["--missed", "1,x"]).is_err());
        assert!(parse(&["--pipeline", "257"]).is_err());
        assert!(parse(&["--interval", "0s"]).unwrap_err().to_string().contains("between 1ms and 10s"));
        assert!(parse(&["--interval", "11s"]).is_err());
    }
}
