//! The live-session cap per principal: a session created past
//! [`ClientLimits::sessions_per_principal`](crate::config::ClientLimits) signs out that
//! principal's oldest sessions, so one client cannot multiply sessions (and with them every
//! per-session limit) without end, and a new login always succeeds.

use continuum_core::SessionRecord;

use crate::state::AppState;

/// Signs out `created`'s principal's oldest live sessions beyond the cap, never `created`.
/// Runs where a stored session is created (backend create, handoff redeem), never on
/// validation. A store failure here is logged and the new session stands: the caller already
/// holds its token.
pub(crate) async fn enforce(state: &AppState, created: &SessionRecord) {
    if created.principal.is_anonymous() {
        return; // every anonymous session is its own principal
    }
    let max = state.client_limits().sessions_per_principal;
    match state.sessions().sign_out_beyond(&created.principal, max, &created.sid).await {
        Ok(0) => {}
        Ok(revoked) => tracing::info!(
            principal = %created.principal.as_str(),
            revoked,
            max,
            "signed out the oldest sessions of a principal past its session cap"
        ),
        Err(error) => tracing::warn!(
            error = &error as &dyn std::error::Error,
            "cannot apply the session cap of a principal"
        ),
    }
}
