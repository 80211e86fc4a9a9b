//! An axum app on Continuum sessions, in each mode:
//!
//! ```sh
//! cargo run -p continuum-tower --example visits -- remote http://127.0.0.1:7878 "$KEY"
//! cargo run -p continuum-tower --example visits -- remote-no-cache http://127.0.0.1:7878 "$KEY"
//! cargo run -p continuum-tower --example visits -- sealed [sk_…]
//! ```
//!
//! It listens on `127.0.0.1:3000` (`VISITS_ADDR` to change; port 0 picks a free one and the
//! address actually bound is printed) with plain-HTTP development cookies. Then: `curl -c j -b j
//! -X POST 'localhost:3000/login?user=alice'`, `curl -c j -b j localhost:3000/`, `curl -b j
//! localhost:3000/devices`, `curl -c j -b j -X POST localhost:3000/logout`.

mod app;

use anyhow::{Context as _, bail};
use axum::serve::ListenerExt as _;
use continuum_core::seal::{KeyRing, SealKey};
use continuum_tower::{ContinuumLayer, CookieConfig, RemoteConfig, SealedConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let layer = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["remote", url, key] => ContinuumLayer::remote(RemoteConfig {
            cookie: CookieConfig::dev(),
            ..RemoteConfig::new(*url, *key)
        }),
        ["remote-no-cache", url, key] => ContinuumLayer::remote(RemoteConfig {
            cookie: CookieConfig::dev(),
            ..RemoteConfig::new(*url, *key).without_cache()
        }),
        ["sealed", rest @ ..] => {
            let key = match rest {
                [key] => SealKey::parse(key).context("a sealing key is sk_ and 43 base64url characters")?,
                _ => {
                    let key = SealKey::generate();
                    eprintln!(
                        "sealing with a new key (pass it to keep sessions across restarts): {}",
                        key.to_secret_text()
                    );
                    key
                }
            };
            ContinuumLayer::sealed(SealedConfig {
                cookie: CookieConfig::dev(),
                ..SealedConfig::new(KeyRing::new(vec![key])?)
            })
        }
        _ => bail!(
            "usage: visits remote <url> <api key> | remote-no-cache <url> <api key> | sealed [<sk_ key>]"
        ),
    };
    let addr = std::env::var("VISITS_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("bind {addr}"))?;
    eprintln!("visits listening on http://{}", listener.local_addr()?);
    // As the Continuum server does: answers leave at once instead of waiting behind Nagle's algorithm.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app::router(layer)).await?;
    Ok(())
}
