-- The PostgreSQL engine's tables (crates/eddy-store/src/postgres_engine).
-- Created in the schema the node was given: every connection sets its
-- search_path to it, so names here are unqualified.

-- One row per named partition. A dropped partition's id is never reused,
-- so a handle to it can neither read nor write its successor's rows.
CREATE TABLE partitions (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    -- 0: records (written, rewritten, deleted); 1: an append-only log.
    kind smallint NOT NULL
);

-- Every key of every partition. bytea compares as memcmp, then by length,
-- which is the byte order the engine contract asks for ("ab" < "ab\0" < "b").
-- The foreign key makes a batch that writes to a dropped partition fail
-- whole, instead of leaving rows no partition owns.
CREATE TABLE kv (
    partition bigint NOT NULL REFERENCES partitions (id),
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (partition, key)
);
