//! Reading the server's `/metrics` over the backend plane: [`read_metrics`], [`read_rss`] and
//! [`MetricsError`].

use continuum_client::{ApiClient, BearerKey, ClientError, Endpoint, requests};

use crate::metrics::{self, RESIDENT_MEMORY};

/// Why a figure could not be read from the server's `/metrics`.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The request failed or was refused.
    #[error("cannot read /metrics")]
    Read(#[source] ClientError),
    /// The answer is not text.
    #[error("/metrics is not UTF-8 text")]
    NotText(#[source] std::string::FromUtf8Error),
    /// The text has no sample of a metric the bench needs.
    #[error("the server's /metrics has no {metric}")]
    Missing {
        /// The metric.
        metric: &'static str,
    },
}

/// The server's RSS from `/metrics` (`continuum_process_resident_memory_bytes`), in bytes.
pub async fn read_rss(endpoint: &Endpoint, key: &BearerKey) -> Result<u64, MetricsError> {
    let mut client = ApiClient::new(endpoint.clone(), key.clone());
    require(&read_metrics(&mut client, key).await?, RESIDENT_MEMORY)
}

/// The server's `/metrics` text.
pub async fn read_metrics(client: &mut ApiClient, key: &BearerKey) -> Result<String, MetricsError> {
    let response = client.call(requests::get("/metrics", Some(key))).await.map_err(MetricsError::Read)?;
    String::from_utf8(response.into_body().to_vec()).map_err(MetricsError::NotText)
}

/// The first sample of `metric` in `text`, as a whole non-negative number.
pub fn require(text: &str, metric: &'static str) -> Result<u64, MetricsError> {
    let value = metrics::sample(text, metric).ok_or(MetricsError::Missing { metric })?;
    Ok(value.max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_metric_is_named() {
        assert_eq!(require("continuum_process_resident_memory_bytes 12.7\n", RESIDENT_MEMORY).unwrap(), 12);
        let error = require("continuum_sessions 1\n", RESIDENT_MEMORY).unwrap_err();
        assert_eq!(error.to_string(), "the server's /metrics has no continuum_process_resident_memory_bytes");
    }
}
