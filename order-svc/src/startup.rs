//! Building the service from its configuration and running it until stopped:
//! the same path in production and in tests.

use std::{future::Future, net::SocketAddr, sync::Arc};

use amqp::{EventPublisher, RpcClient};
use edge::{rate_limit::PerClientLimit, service::Foundation};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    Config,
    db::{self, retention::Retention},
    http::{self, AppState},
    relay,
    saga::{self, AmqpCustomerGateway, Coordinator, SagaSettings},
    usecases::UseCases,
};

/// A built, not yet running, order-svc.
pub struct Application {
    foundation: Foundation,
    state: AppState,
    rpc: RpcClient,
    background: Vec<JoinHandle<()>>,
    stop_background: CancellationToken,
}

impl Application {
    /// Connects to the database (applying migrations) and the broker, starts
    /// the RPC client, the outbox relay and saga recovery (which resumes what a
    /// previous run left unfinished), and binds the HTTP listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_on(config, None).await
    }

    /// [`Application::build`] on a listener already bound (its address is
    /// known before the service starts; `HTTP_ADDR` is then not used).
    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        Self::build_on(config, Some(listener)).await
    }

    async fn build_on(config: Config, listener: Option<TcpListener>) -> anyhow::Result<Self> {
        if config.crash_after.is_some() {
            warn!(step = ?config.crash_after, "FAULT_CRASH_AFTER is set: this process will abort on purpose (tests only)");
        }
        if !config.ui_dir.join("index.html").is_file() {
            warn!(ui_dir = %config.ui_dir.display(), "no UI built there (run scripts/build-ui.sh); the API works without it");
        }
        let foundation = Foundation::lay(&config.service, &db::MIGRATOR, listener).await?;
        let (pool, broker) = (foundation.pool.clone(), foundation.broker.clone());
        let rpc = RpcClient::start(&broker);
        let gateway = AmqpCustomerGateway::new(rpc.clone(), &config.service.amqp.namespace);
        let coordinator = Coordinator::new(
            pool.clone(),
            Arc::new(gateway),
            SagaSettings {
                rpc_timeout: config.rpc_timeout,
                lease: config.saga_lease,
                instance_id: config.instance_id.clone(),
                crash_after: config.crash_after.clone(),
                currency: config.service.shop_currency.clone(),
            },
        );
        let stop_background = CancellationToken::new();
        let background = vec![
            relay::spawn(
                pool.clone(),
                EventPublisher::new(&broker),
                stop_background.clone(),
            ),
            saga::recovery::spawn(
                pool.clone(),
                coordinator.clone(),
                config.recovery_interval,
                config.saga_auto_compensate_after,
                Retention {
                    idempotency_keys: config.idempotency_key_ttl,
                    sent_events: config.outbox_retention,
                    finished_timelines: config.saga_timeline_retention,
                },
                stop_background.clone(),
            ),
        ];
        info!(instance = %config.instance_id, "order-svc built");
        let access = config.service.access.access();
        Ok(Self {
            foundation,
            state: AppState {
                usecases: UseCases::new(
                    pool.clone(),
                    coordinator.clone(),
                    access.tokens().clone(),
                    &config,
                ),
                pool,
                broker,
                coordinator,
                checkout_limit: PerClientLimit::per_minute(config.checkout_rate_per_minute),
                access,
                config: Arc::new(config),
            },
            rpc,
            background,
            stop_background,
        })
    }

    /// Where the HTTP API listens.
    pub fn address(&self) -> SocketAddr {
        self.foundation.address
    }

    /// Serves until `shutdown` resolves; then stops taking requests, lets the
    /// saga steps in flight commit (unfinished sagas are resumed by the next
    /// instance to run), stops the relay and recovery, and closes connections.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let stop_own_work = async move {
            state.coordinator.shutdown().await;
            self.stop_background.cancel();
            for task in self.background {
                let _ = task.await;
            }
            self.rpc.shutdown().await;
        };
        let routes = http::routes(self.state);
        self.foundation
            .serve_until(routes, shutdown, stop_own_work)
            .await;
        Ok(())
    }
}
