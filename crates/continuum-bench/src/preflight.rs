//! Before any load: the server must be on loopback ([`ensure_loopback`]), ready, and accept the
//! API key when a scenario needs one ([`preflight`]).

use std::net::SocketAddr;

use continuum_client::{ApiClient, BearerKey, Connection, Endpoint, requests};

use crate::error::BenchError;

/// The first address in `addrs` that is not a loopback address.
pub fn first_non_loopback(addrs: &[SocketAddr]) -> Option<SocketAddr> {
    addrs.iter().copied().find(|addr| !addr.ip().is_loopback())
}

/// Refuses an endpoint that resolves to anything but loopback addresses: the bench is for
/// measuring a server on this machine, never for sending load elsewhere.
pub async fn ensure_loopback(endpoint: &Endpoint) -> Result<(), BenchError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((endpoint.host(), endpoint.port()))
        .await
        .map_err(|source| BenchError::Resolve { endpoint: endpoint.to_string(), source })?
        .collect();
    if addrs.is_empty() {
        return Err(BenchError::NoAddress { endpoint: endpoint.to_string() });
    }
    if let Some(addr) = first_non_loopback(&addrs) {
        return Err(BenchError::NotLoopback { endpoint: endpoint.to_string(), addr });
    }
    Ok(())
}

/// Checks the server is ready and, when a key is needed, that it accepts the key — with one
/// read-only request, so that a wrong key fails in a second instead of after a whole pool.
pub async fn preflight(endpoint: &Endpoint, key: Option<&BearerKey>) -> Result<(), BenchError> {
    let not_ready = |source| BenchError::NotReady { endpoint: endpoint.to_string(), source };
    let Some(key) = key else {
        let mut connection = Connection::open(endpoint).await.map_err(not_ready)?;
        let response = connection.send(requests::get("/readyz", None)).await.map_err(not_ready)?;
        if !response.status().is_success() {
            return Err(BenchError::Unready { endpoint: endpoint.to_string(), status: response.status() });
        }
        return Ok(());
    };
    let mut client = ApiClient::new(endpoint.clone(), key.clone());
    client.call(requests::get("/readyz", None)).await.map_err(not_ready)?;
    client.list("bench-preflight").await.map_err(BenchError::KeyRefused)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_pass() {
        let loopback: Vec<SocketAddr> = vec!["127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap()];
        assert_eq!(first_non_loopback(&loopback), None);
        let mixed: Vec<SocketAddr> = vec!["127.0.0.2:1".parse().unwrap(), "10.0.0.1:1".parse().unwrap()];
        assert_eq!(first_non_loopback(&mixed), Some("10.0.0.1:1".parse().unwrap()));
    }
}
