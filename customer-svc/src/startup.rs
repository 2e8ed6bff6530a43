//! Building the service from its configuration and running it until stopped:
//! the same path in production and in tests.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use amqp::ConsumerHandle;
use edge::service::Foundation;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    consumers, db,
    http::{self, AppState, sign_in_guard::SignInGuard},
    rpc, sweeper,
    usecases::{Accounts, CreditDesk, DeadLetterDesk, OrderHistory, Sessions},
};

/// How often the dead-letter queues' depth is read into the metrics.
const DEAD_LETTER_WATCH_INTERVAL: Duration = Duration::from_secs(15);

/// A built, not yet running, customer-svc.
pub struct Application {
    foundation: Foundation,
    state: AppState,
    rpc_server: ConsumerHandle,
    order_events: ConsumerHandle,
    sweeper: JoinHandle<()>,
    dead_letter_watch: JoinHandle<()>,
    stop_background: CancellationToken,
}

impl Application {
    /// Connects to the database (applying migrations) and the broker, starts
    /// the RPC server, the event consumer, the lease sweeper and the watch on
    /// the dead-letter queues, and binds the
    /// HTTP listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        crate::domain::password::prepare().await;
        let foundation = Foundation::lay(&config.service, &db::MIGRATOR, None).await?;
        let (pool, broker) = (foundation.pool.clone(), foundation.broker.clone());

        let desk = CreditDesk::new(
            pool.clone(),
            config.default_credit_limit,
            config.reservation_ttl,
            config.service.shop_currency.clone(),
        );
        let rpc_server = rpc::serve(&broker, desk, config.rpc_prefetch);
        let order_events =
            consumers::spawn_order_events(&broker, pool.clone(), config.events_prefetch);
        let stop_background = CancellationToken::new();
        let sweeper = sweeper::spawn(
            pool.clone(),
            config.lease_sweep_interval,
            config.inbox_retention,
            stop_background.clone(),
        );
        let dead_letter_watch = amqp::dead_letters::spawn_watch(
            &broker,
            &foundation.topology,
            DEAD_LETTER_WATCH_INTERVAL,
            stop_background.clone(),
        );

        let dead_letters = DeadLetterDesk::new(&broker, &foundation.topology);
        let access = config.service.access.access();
        Ok(Self {
            foundation,
            state: AppState {
                sessions: Sessions::new(pool.clone(), access.tokens().clone()),
                access,
                sign_in: SignInGuard::new(config.service.access.trusted_proxies.clone()),
                accounts: Accounts::new(pool.clone(), config.default_credit_limit),
                order_history: OrderHistory::new(pool.clone()),
                order_events_waiting: order_events.waiting_out(),
                dead_letters,
                pool,
                broker,
                config: Arc::new(config),
            },
            rpc_server,
            order_events,
            sweeper,
            dead_letter_watch,
            stop_background,
        })
    }

    /// Where the HTTP API listens.
    pub fn address(&self) -> SocketAddr {
        self.foundation.address
    }

    /// True once the broker is connected and both consumers are registered.
    pub fn is_consuming(&self) -> bool {
        self.rpc_server.is_ready() && self.order_events.is_ready()
    }

    /// Waits until the service consumes its queues, at most `within`.
    pub async fn wait_consuming(&self, within: Duration) -> bool {
        self.rpc_server.wait_ready(within).await && self.order_events.wait_ready(within).await
    }

    /// Serves until `shutdown` resolves, then stops taking requests and
    /// messages, lets what is in flight finish, and closes connections.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop_own_work = async move {
            self.rpc_server.shutdown().await;
            self.order_events.shutdown().await;
            self.stop_background.cancel();
            let _ = self.sweeper.await;
            let _ = self.dead_letter_watch.await;
        };
        let routes = http::routes(self.state);
        self.foundation
            .serve_until(routes, shutdown, stop_own_work)
            .await;
        Ok(())
    }
}
