//! What every service stands on, laid the same way: its own database
//! (migrated before anything uses it), the broker connection declaring the
//! system's whole topology, and the HTTP listener; and the order in which a
//! service stops: no new requests, then the service's own work, then the
//! connections.

use std::{future::Future, net::SocketAddr};

use amqp::{Broker, Topology};
use sqlx::{PgPool, migrate::Migrator};
use tokio::net::TcpListener;
use tracing::info;
use warp::{filters::BoxedFilter, reply::Response};

use super::config::ServiceConfig;
use crate::HttpServer;

/// A service's database, broker and listener.
pub struct Foundation {
    /// The service's name, in its logs.
    pub name: &'static str,
    /// The service's database.
    pub pool: PgPool,
    /// The broker connection.
    pub broker: Broker,
    /// What the broker connection declares.
    pub topology: Topology,
    /// Where the HTTP API is served.
    pub listener: TcpListener,
    /// The listener's address.
    pub address: SocketAddr,
}

impl Foundation {
    /// Warns about development secrets, connects to the database (retrying
    /// while it starts) and applies `migrator`, starts the broker connection,
    /// and binds `HTTP_ADDR` unless `listener` is given.
    pub async fn lay(
        config: &ServiceConfig,
        migrator: &'static Migrator,
        listener: Option<TcpListener>,
    ) -> anyhow::Result<Self> {
        config.access.warn_about_defaults();
        let pool = crate::database::connect_and_migrate(
            &config.database_url,
            config.database_max_connections,
            migrator,
        )
        .await?;
        let topology = amqp::system::topology(&config.amqp.namespace);
        let broker = Broker::start(config.amqp.clone(), topology.clone());
        // Bound last (unless given): the port opens once the database is ready.
        let listener = match listener {
            Some(listener) => listener,
            None => TcpListener::bind(config.http_addr).await?,
        };
        let address = listener.local_addr()?;
        crate::metrics::handle();
        Ok(Self {
            name: config.name,
            pool,
            broker,
            topology,
            listener,
            address,
        })
    }
}

impl Foundation {
    /// Serves `routes` until `shutdown` resolves; then stops taking
    /// requests and lets those in flight finish, runs `stop_own_work` (the
    /// service's consumers and background tasks), and closes the broker
    /// connection and the database pool.
    pub async fn serve_until(
        self,
        routes: BoxedFilter<(Response,)>,
        shutdown: impl Future<Output = ()>,
        stop_own_work: impl Future<Output = ()>,
    ) {
        let name = self.name;
        info!(address = %self.address, "{name} listening");
        let server = HttpServer::spawn(self.listener, routes);
        shutdown.await;
        info!(
            service = name,
            "shutting down: no new requests; finishing what is in flight"
        );
        server.shutdown().await;
        stop_own_work.await;
        self.broker.close().await;
        self.pool.close().await;
        info!("{name} stopped");
    }
}
