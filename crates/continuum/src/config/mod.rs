//! The `serve` configuration: four layers merged by a pure function.
//!
//! Precedence, highest first: command-line flags, `CONTINUUM_*` environment variables, the TOML
//! file named by `--config` (or `CONTINUUM_CONFIG`), built-in defaults. Each source becomes a
//! [`ConfigLayer`] (every field optional); [`ConfigLayer::over`] stacks them and [`resolve()`] fills
//! the gaps with defaults and checks the result. None of this reads a file or the environment by
//! itself except [`file::load`], so every rule is unit-tested.
//!
//! # Layout
//! - [`layer`]: [`ConfigLayer`], one source's settings, and how two layers stack.
//! - [`file`](mod@file): the TOML schema ([`FileConfig`]); unknown keys are an error.
//! - [`env`](mod@env): `CONTINUUM_*` variables to a layer.
//! - [`resolve`](mod@resolve): a layer to [`ServeSettings`], with defaults and validation.
//! - [`error`](mod@error): [`ConfigError`], shared by the readers and the resolution.
//! - [`cluster`](mod@cluster): the `[cluster]` settings to the replicated store's configuration.
//! - [`session_cache`](mod@session_cache): the `[session_cache]` settings to the cache's policy.

pub mod cluster;
pub mod env;
pub mod error;
pub mod file;
pub mod layer;
pub mod resolve;
pub mod session_cache;

pub use file::FileConfig;
pub use layer::{ConfigLayer, StoreKind};
pub use resolve::{ConfigError, DEFAULT_DATA, DEFAULT_LISTEN, ServeSettings, resolve};
