-- Sessions: one row per session, tombstones included.
--
-- `record` holds the serde_json encoding of continuum_core::SessionRecord, byte for byte as
-- Rust wrote it (bytea, not jsonb: jsonb refuses "\u0000" in strings and renormalizes numbers,
-- and attributes must come back exactly as they were written). The other columns are copies of
-- record fields that SQL needs: the principal index, the compare-and-swap version, the expiry
-- sweep, and the touch, which moves last_seen_at without rewriting the record. `last_seen_at`
-- is authoritative: a touch updates it (and purge_at) but not the copy inside `record`, and
-- every read puts the column's value back into the record.
--
-- Times are milliseconds since the Unix epoch (continuum_core::Timestamp), not timestamptz, so
-- they round-trip exactly and saturated deadlines (i64::MAX) fit.
CREATE TABLE sessions (
    sid                 bytea   PRIMARY KEY CHECK (octet_length(sid) = 16),
    principal           text    NOT NULL,
    version             bigint  NOT NULL CHECK (version >= 0),
    status              text    NOT NULL CHECK (status IN ('active', 'revoked')),
    last_seen_at        bigint  NOT NULL,
    idle_timeout_ms     bigint  NOT NULL CHECK (idle_timeout_ms >= 0),
    absolute_expires_at bigint  NOT NULL,
    -- When the sweeper may delete the row: SessionRecord::purge_at.
    purge_at            bigint  NOT NULL,
    record              bytea   NOT NULL
);

-- list_by_principal.
CREATE INDEX sessions_principal ON sessions (principal);

-- purge_expired: the oldest deadlines first.
CREATE INDEX sessions_purge_at ON sessions (purge_at);
