-- Several eddy nodes per schema (crates/eddy-store/src/postgres_engine/lock.rs):
-- the node holding the schema's advisory lock serves, the others forward
-- requests to it. It writes here, under the lock, where it can be reached;
-- `pid` is its lock session's backend, so a reader can tell a live leader
-- (that session still holds the lock) from a row left by a dead one.
CREATE TABLE cluster_leader (
    id smallint PRIMARY KEY CHECK (id = 1),
    url text NOT NULL,
    pid integer NOT NULL,
    since timestamptz NOT NULL DEFAULT now()
);
