//! `continuum bench`: the command line of the load generator ([`BenchArgs`]); the generator
//! itself is the `continuum-bench` crate.
//!
//! # Layout
//! - [`args`]: [`BenchArgs`], its flags and the [`continuum_bench::BenchOptions`] they stand for.

pub mod args;

pub use args::BenchArgs;

/// Runs `continuum bench`: resolves the API key when a scenario needs one, then runs the
/// generator with its reports on stdout.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let options = args.options();
    let key = if options.needs_key() { Some(args.key.bearer()?) } else { None };
    let mut out = std::io::stdout().lock();
    continuum_bench::run(&args.url, key.as_ref(), &options, &mut out).await?;
    Ok(())
}
