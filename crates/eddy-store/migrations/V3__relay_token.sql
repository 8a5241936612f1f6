-- A secret of the current leader's (crates/eddy/src/cluster/relay.rs): a
-- standby sends it with each request it relays, and the leader then trusts
-- the client address the standby saw (X-Forwarded-For) for aws:SourceIp.
-- Only the nodes, which can read this table, know it.
ALTER TABLE cluster_leader ADD COLUMN relay_token text NOT NULL DEFAULT '';
