//! File descriptors: every connection, store table file and delivery
//! socket takes one. Running out makes accept fail in a loop and the store
//! fail a write (which poisons it), so eddy raises its soft limit to the
//! hard one at start and splits the result: a share for the store's table
//! files, a reserve for journals, logs and outgoing deliveries, and the
//! rest for client connections.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors never handed to client connections or table files: the
/// journal, partition folders, SNS delivery sockets, the runtime's own.
const RESERVE: u64 = 256;
/// Ceiling on the store's open table files (fjall's default is 900).
const STORE_MAX_OPEN_FILES: u64 = 512;
/// Ceiling on client connections when the fd limit allows more.
const MAX_CONNECTIONS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft limit after raising it.
    pub limit: u64,
    pub store_files: usize,
    pub connections: usize,
}

/// Raises the soft fd limit to the hard one and splits it.
pub fn raise_and_split() -> FdBudget {
    let limit = raise();
    split(limit)
}

fn raise() -> u64 {
    let current = getrlimit(Resource::Nofile);
    let Some(soft) = current.current else { return u64::MAX };
    let Some(hard) = current.maximum else {
        // Unlimited hard limit: the kernel still caps at nr_open; ask for a
        // generous finite value rather than "infinity" (refused on Linux).
        return try_set(soft, 1 << 20);
    };
    if hard > soft {
        return try_set(soft, hard);
    }
    soft
}

fn try_set(soft: u64, wanted: u64) -> u64 {
    let current = getrlimit(Resource::Nofile);
    match setrlimit(Resource::Nofile, Rlimit { current: Some(wanted), maximum: current.maximum }) {
        Ok(()) => wanted,
        Err(e) => {
            tracing::warn!(error = %e, soft, wanted, "could not raise the open-file limit");
            soft
        }
    }
}

/// The store gets a quarter (up to 512), a reserve is kept, connections get
/// the rest (up to 10,000). With a tiny limit every share shrinks, but each
/// keeps a floor so eddy still serves.
pub fn split(limit: u64) -> FdBudget {
    let store_files = (limit / 4).clamp(16, STORE_MAX_OPEN_FILES);
    let reserve = RESERVE.min(limit / 4);
    let connections = limit.saturating_sub(store_files + reserve).clamp(8, MAX_CONNECTIONS);
    FdBudget { limit, store_files: store_files as usize, connections: connections as usize }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_limit_caps_every_share() {
        assert_eq!(split(1 << 20), FdBudget { limit: 1 << 20, store_files: 512, connections: 10_000 });
    }

    #[test]
    fn the_default_soft_limit_leaves_room_for_the_store() {
        let b = split(1024);
        assert_eq!(b.store_files, 256);
        assert_eq!(b.connections, 1024 - 256 - 256);
    }

    #[test]
    fn a_tiny_limit_keeps_floors_and_never_oversubscribes_much() {
        let b = split(64);
        assert_eq!((b.store_files, b.connections), (16, 32));
        assert!(b.store_files as u64 + b.connections as u64 <= 64);
    }
}
