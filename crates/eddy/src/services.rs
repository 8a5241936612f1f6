//! A node's services over one store: opened together (each recovers its
//! state from the store), their background work spawned, and stopped
//! together when a cluster node stops leading.

use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::cli::{self, ServeArgs};
use crate::cluster::Front;
use crate::server::AppState;

pub struct Services {
    pub state: Arc<AppState>,
    /// SQS's sweeper, SNS's deliveries, Kinesis's maintenance, EventBridge's
    /// deliveries, Scheduler's firing, Pipes' readers, Schemas' discovery.
    tasks: Vec<JoinHandle<()>>,
}

impl Services {
    /// Opens SQS, SNS, Kinesis, EventBridge, Scheduler, Pipes, Schemas and IAM on `store` and starts their background work.
    pub fn open(store: eddy_store::Store, args: &ServeArgs, front: &Front) -> anyhow::Result<Services> {
        let clock = || Arc::new(eddy_core::clock::SystemClock);
        let sqs = eddy_core::sqs::Sqs::open(store.clone(), clock())
            .map_err(|e| anyhow::anyhow!("recovering SQS state: {e}"))?;
        let enforcement = match args.policy_enforcement {
            cli::PolicyEnforcement::Enforce => eddy_core::sns::Enforcement::Enforce,
            cli::PolicyEnforcement::Warn => eddy_core::sns::Enforcement::Warn,
            cli::PolicyEnforcement::Off => eddy_core::sns::Enforcement::Off,
        };
        let sns_config =
            eddy_core::sns::SnsConfig { enforcement, urls: eddy_core::sns::Urls { base: args.public_url() } };
        let http = Arc::new(crate::sns::http_client::HyperSender::new());
        let (sns, deliveries) = eddy_core::sns::Sns::open(store.clone(), clock(), sqs.clone(), http, sns_config)
            .map_err(|e| anyhow::anyhow!("recovering SNS state: {e}"))?;
        let kinesis = eddy_core::kinesis::Kinesis::open(
            store.clone(),
            clock(),
            eddy_core::kinesis::KinesisConfig { enforce_limits: args.kinesis_enforce_limits },
        )
        .map_err(|e| anyhow::anyhow!("recovering Kinesis state: {e}"))?;
        let events = eddy_core::events::Events::open(
            store.clone(),
            clock(),
            eddy_core::events::Targets { sqs: sqs.clone(), sns: sns.clone(), kinesis: kinesis.clone() },
            Arc::new(crate::events::invoker::HyperInvoker::default()),
            eddy_core::events::EventsConfig { enforcement, rules_per_bus: args.events_rules_per_bus },
        )
        .map_err(|e| anyhow::anyhow!("recovering EventBridge state: {e}"))?;
        let scheduler = eddy_core::scheduler::Scheduler::open(
            store.clone(),
            clock(),
            eddy_core::scheduler::Targets {
                sqs: sqs.clone(),
                sns: sns.clone(),
                kinesis: kinesis.clone(),
                events: events.clone(),
            },
        )
        .map_err(|e| anyhow::anyhow!("recovering Scheduler state: {e}"))?;
        let pipes = eddy_core::pipes::Pipes::open(
            store.clone(),
            clock(),
            eddy_core::pipes::Targets {
                sqs: sqs.clone(),
                sns: sns.clone(),
                kinesis: kinesis.clone(),
                events: events.clone(),
            },
        )
        .map_err(|e| anyhow::anyhow!("recovering Pipes state: {e}"))?;
        let schemas = eddy_core::schemas::Schemas::open(store.clone(), clock(), &events)
            .map_err(|e| anyhow::anyhow!("recovering Schemas state: {e}"))?;
        let iam = eddy_core::iam::Iam::open(store.clone(), clock())
            .map_err(|e| anyhow::anyhow!("recovering IAM state: {e}"))?;
        let tasks = vec![
            tokio::spawn(sqs.clone().run_sweeper()),
            tokio::spawn(sns.clone().run_deliveries(deliveries)),
            tokio::spawn(kinesis.clone().run_maintenance()),
            tokio::spawn(events.clone().run_deliveries()),
            tokio::spawn(scheduler.clone().run()),
            tokio::spawn(pipes.clone().run()),
            tokio::spawn(schemas.clone().run_discovery()),
        ];
        let state = Arc::new(AppState {
            sqs,
            sns,
            kinesis,
            events,
            scheduler,
            pipes,
            schemas,
            iam,
            store,
            connections: front.connections.clone(),
            bodies: front.bodies.clone(),
            auth: crate::auth::Auth::from_args(args)?,
            config: args.clone(),
            retired: tokio::sync::watch::channel(false).0,
        });
        Ok(Services { state, tasks })
    }

    /// Ends the background work and the streams served from this state;
    /// requests still holding the state finish on it (their writes fail
    /// once the store has).
    pub fn stop(self) {
        self.state.retired.send_replace(true);
        for task in self.tasks {
            task.abort();
        }
    }
}
