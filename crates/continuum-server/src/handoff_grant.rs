//! [`HandoffGrant`]: what an outstanding handoff code grants the device that redeems it.

use continuum_core::{Principal, SessionId};

/// What a handoff code grants.
#[derive(Clone, Debug)]
pub struct HandoffGrant {
    /// The user the new device signs in as.
    pub principal: Principal,
    /// The session that asked for the code; the code dies with it.
    pub issuer: SessionId,
}
