-- Continuity documents: per-document counters and the snapshot, the update log after the
-- snapshot, and named versions. Documents are keyed by DocKey::storage_key (the scope, a 0 byte,
-- the name), which is unambiguous whatever a principal contains.
--
-- There are no foreign keys: doc_updates and doc_versions rows are only written by statements
-- that write the doc_meta row of the same document in the same statement.

CREATE TABLE doc_meta (
    storage_key       bytea   PRIMARY KEY,
    -- Scope::to_string(), for doc_names.
    scope             text    NOT NULL,
    -- DocName, for doc_names and for people reading the table.
    name              text    NOT NULL,
    -- The sequence number of the last update ever appended; never reset.
    last_seq          bigint  NOT NULL DEFAULT 0,
    -- The snapshot holds every update up to this sequence number (0 if never compacted).
    compacted_through bigint  NOT NULL DEFAULT 0,
    -- The id of the last named version (0 if none).
    last_version      bigint  NOT NULL DEFAULT 0,
    -- The compacted state; large values live in TOAST, so bumping last_seq does not copy them.
    snapshot          bytea,
    CHECK (0 <= compacted_through AND compacted_through <= last_seq)
);

CREATE INDEX doc_meta_scope ON doc_meta (scope);

CREATE TABLE doc_updates (
    storage_key bytea  NOT NULL,
    seq         bigint NOT NULL,
    update      bytea  NOT NULL,
    PRIMARY KEY (storage_key, seq)
);

CREATE TABLE doc_versions (
    storage_key bytea  NOT NULL,
    id          bigint NOT NULL,
    name        text   NOT NULL,
    created_at  bigint NOT NULL,
    state       bytea  NOT NULL,
    PRIMARY KEY (storage_key, id)
);
