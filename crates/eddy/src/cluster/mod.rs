//! Several eddy nodes over one PostgreSQL schema (`--store postgres://…`).
//!
//! Services keep authoritative state in memory beside what they store (an
//! SQS queue's in-flight receipts, FIFO group locks, Kinesis shard tips), so
//! exactly one node at a time serves a schema: the *leader*, which holds the
//! schema's lock in PostgreSQL (`eddy_store::Claim`). Every other node is a
//! *standby*: it answers on its own port by relaying each request, bytes and
//! headers unchanged, to the leader's advertised URL ([`relay`]), and waits
//! for the lock. When the leader goes (killed, or cut off from PostgreSQL) a
//! standby takes the lock, loads the services' state from PostgreSQL and
//! leads; a leader that loses the lock drops its in-memory state and stands
//! by. Everything acknowledged is committed in PostgreSQL before the answer,
//! so nothing acknowledged is lost in a takeover; requests in the gap get
//! the protocol's retryable 503.
//!
//! This makes any node a valid target for a load balancer and keeps the
//! service available when a node dies. It does not add throughput: the
//! leader does all the work (see the README).

pub mod relay;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use eddy_store::{Claim, LeaderWatch, Store, StoreHealth};

use crate::body::BodyBudget;
use crate::cli::ServeArgs;
use crate::connections::Connections;
use crate::server::AppState;
use crate::services::Services;

/// What a node does with a request right now.
#[derive(Clone)]
pub enum Role {
    /// Serves it: on the node's own store, or as the leader of a PostgreSQL schema.
    Active(Arc<AppState>),
    /// Relays it to the leader the watch names (none: answers 503).
    Standby(Arc<LeaderWatch>),
}

/// The part of a node that outlives its roles: the listener's limits, its
/// configuration and the role requests are dispatched on.
pub struct Front {
    pub connections: Arc<Connections>,
    pub bodies: Arc<BodyBudget>,
    pub config: ServeArgs,
    pub relay: relay::Relay,
    role: RwLock<Option<Role>>,
    /// The last health check of the leader: when, which URL, whether it answered.
    leader_checked: tokio::sync::Mutex<Option<(std::time::Instant, String, bool)>>,
}

impl Front {
    pub fn new(connections: Arc<Connections>, bodies: Arc<BodyBudget>, config: ServeArgs) -> Front {
        Front {
            connections,
            bodies,
            config,
            relay: relay::Relay::new(),
            role: RwLock::new(None),
            leader_checked: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether the leader at `leader` answers from here, asked at most once
    /// a second (load balancers may check health often).
    pub async fn leader_answers(&self, leader: &str) -> bool {
        let mut checked = self.leader_checked.lock().await;
        if let Some((at, url, answers)) = &*checked {
            if url == leader && at.elapsed() < Duration::from_secs(1) {
                return *answers;
            }
        }
        let answers = self.relay.leader_answers(leader).await;
        *checked = Some((std::time::Instant::now(), leader.to_string(), answers));
        answers
    }

    /// The current role; None until the node has one (start-up).
    pub fn role(&self) -> Option<Role> {
        self.role.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_role(&self, role: Role) {
        *self.role.write().unwrap_or_else(|e| e.into_inner()) = Some(role);
    }

    /// The services, when this node serves.
    pub fn active(&self) -> Option<Arc<AppState>> {
        match self.role() {
            Some(Role::Active(state)) => Some(state),
            _ => None,
        }
    }
}

/// How often a leader checks that it still holds the schema.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// A cluster node's life: stand by until the schema's lock is ours, lead
/// until it is lost, stand by again. Returns only on a configuration error
/// (a bad URL), which ends eddy.
pub async fn run(front: Arc<Front>, url: String) -> anyhow::Result<()> {
    let args = front.config.clone();
    let schema = args.store_schema.clone();
    let watch = Arc::new(LeaderWatch::start(&url, &schema)?);
    loop {
        front.set_role(Role::Standby(watch.clone()));
        let store = claim(&url, &args).await?;
        let services = match Services::open(store.clone(), &args, &front) {
            Ok(services) => services,
            Err(e) => {
                tracing::error!(error = %e, "loading state from PostgreSQL failed; standing by to try again");
                drop(store);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        tracing::info!(schema, advertise = %args.advertise_url(), queues = services.state.sqs.queue_count(),
            topics = services.state.sns.topic_count(), streams = services.state.kinesis.stream_count(),
            "leading: this node serves PostgreSQL schema {schema}; other nodes forward to it");
        front.set_role(Role::Active(services.state.clone()));
        let reason = lost(&store).await;
        tracing::warn!(schema, %reason, "no longer leading: standing by; in-memory state is dropped \
            and loaded again from PostgreSQL if this node leads again");
        front.set_role(Role::Standby(watch.clone()));
        services.stop();
    }
}

/// Waits for the schema's lock (on a blocking thread: it may take as long
/// as another node leads) and opens the store under it.
async fn claim(url: &str, args: &ServeArgs) -> anyhow::Result<Store> {
    let options = eddy_store::StoreOptions {
        pool_size: args.store_pool_size.into(),
        ..eddy_store::StoreOptions::new(eddy_store::Durability::Fsync)
    };
    let claim = Claim { wait: true, advertise: Some(args.advertise_url()) };
    let (url, schema) = (url.to_string(), args.store_schema.clone());
    let opened = tokio::task::spawn_blocking(move || Store::open_postgres_node(&url, &schema, options, claim)).await?;
    opened.map_err(|e| anyhow::anyhow!("opening PostgreSQL schema {}: {e}", args.store_schema))
}

/// Resolves once the store has failed (its lock lost), with the reason.
async fn lost(store: &Store) -> String {
    loop {
        if let StoreHealth::Failed(reason) = store.health() {
            return reason;
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}
