-- Principal epochs: how many times each principal signed out everywhere. A sealed token carries
-- the epoch it was issued at and is refused once it is not the current one. A principal that
-- never signed out everywhere has no row (epoch 0). Rows are never deleted: one small row per
-- principal that ever used "sign out everywhere".
CREATE TABLE principal_epochs (
    principal text   PRIMARY KEY,
    epoch     bigint NOT NULL CHECK (epoch > 0)
);
