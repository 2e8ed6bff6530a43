//! The faults, each struck once while the shoppers shop.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::{cluster::Cluster, duplicator::Duplicator, instance::Instance, system::System};

/// Which service's database a fault refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Orders,
    Customers,
}

/// How PostgreSQL itself says no to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Closed for maintenance: `ALLOW_CONNECTIONS false`, sessions terminated.
    Closed,
    /// The server restarted: `pg_ctl stop -m fast`, a few seconds, `start`.
    Restarted,
    /// Another client holds every connection slot.
    Exhausted,
    /// Read-only, as a standby after a failover, then writable again.
    ReadOnly,
}

/// One fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    CustomerDatabaseDown,
    OrderDatabaseDown,
    BrokerRestarted,
    BrokerConnectionsCut,
    CustomerServiceKilled,
    OrderServiceKilled,
    CustomerServiceFrozen,
    MessagesDelivered2x,
    ClusterNodeKilled,
    /// PostgreSQL itself refusing a service's database.
    Refused(Side, Refusal),
}

impl Scenario {
    /// Every scenario, in the order the suite runs them (the cluster last: it
    /// leaves the first node dead).
    pub const ALL: [Scenario; 17] = [
        Self::CustomerDatabaseDown,
        Self::OrderDatabaseDown,
        Self::Refused(Side::Customers, Refusal::Closed),
        Self::Refused(Side::Orders, Refusal::Closed),
        Self::Refused(Side::Customers, Refusal::Restarted),
        Self::Refused(Side::Orders, Refusal::Restarted),
        Self::Refused(Side::Customers, Refusal::Exhausted),
        Self::Refused(Side::Orders, Refusal::Exhausted),
        Self::Refused(Side::Customers, Refusal::ReadOnly),
        Self::Refused(Side::Orders, Refusal::ReadOnly),
        Self::BrokerRestarted,
        Self::BrokerConnectionsCut,
        Self::CustomerServiceKilled,
        Self::OrderServiceKilled,
        Self::CustomerServiceFrozen,
        Self::MessagesDelivered2x,
        Self::ClusterNodeKilled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::CustomerDatabaseDown => "customer-db-down",
            Self::OrderDatabaseDown => "order-db-down",
            Self::BrokerRestarted => "broker-restarted",
            Self::BrokerConnectionsCut => "broker-connections-cut",
            Self::CustomerServiceKilled => "customer-svc-killed",
            Self::OrderServiceKilled => "order-svc-killed",
            Self::CustomerServiceFrozen => "customer-svc-frozen",
            Self::MessagesDelivered2x => "delivered-twice",
            Self::ClusterNodeKilled => "cluster-node-killed",
            Self::Refused(side, refusal) => match (side, refusal) {
                (Side::Customers, Refusal::Closed) => "customer-db-closed",
                (Side::Orders, Refusal::Closed) => "order-db-closed",
                (Side::Customers, Refusal::Restarted) => "customer-db-restarted",
                (Side::Orders, Refusal::Restarted) => "order-db-restarted",
                (Side::Customers, Refusal::Exhausted) => "customer-db-exhausted",
                (Side::Orders, Refusal::Exhausted) => "order-db-exhausted",
                (Side::Customers, Refusal::ReadOnly) => "customer-db-read-only",
                (Side::Orders, Refusal::ReadOnly) => "order-db-read-only",
            },
        }
    }

    /// The database a scenario refuses lives on the suite's own server.
    pub fn refuses(self) -> Option<Side> {
        match self {
            Self::Refused(side, _) => Some(side),
            _ => None,
        }
    }

    pub fn parse(name: &str) -> anyhow::Result<Self> {
        match Self::ALL.into_iter().find(|s| s.name() == name) {
            Some(scenario) => Ok(scenario),
            None => bail!(
                "unknown scenario {name:?} (known: {})",
                Self::ALL.map(Self::name).join(" ")
            ),
        }
    }

    pub fn describe(self) -> String {
        let what = match self {
            Self::CustomerDatabaseDown => "customer-svc's database refuses connections for 20 s",
            Self::OrderDatabaseDown => "order-svc's database refuses connections for 10 s",
            Self::BrokerRestarted => "RabbitMQ stop_app, 10 s, start_app",
            Self::BrokerConnectionsCut => "customer-svc's broker connection cut, then order-svc's",
            Self::CustomerServiceKilled => "customer-svc killed (SIGKILL) and started again",
            Self::OrderServiceKilled => "order-svc killed (SIGKILL) mid-saga and started again",
            Self::CustomerServiceFrozen => "customer-svc frozen (SIGSTOP) for 10 s",
            Self::MessagesDelivered2x => {
                "every message published for 10 s (events, RPC requests and replies) delivered twice"
            }
            Self::ClusterNodeKilled => {
                "three-node RabbitMQ cluster; the node both services use is killed (SIGKILL)"
            }
            Self::Refused(side, refusal) => {
                let whose = match side {
                    Side::Customers => "customer-svc's database",
                    Side::Orders => "order-svc's database",
                };
                let what = match (side, refusal) {
                    (Side::Customers, Refusal::Closed) => {
                        "closed for maintenance for 20 s (ALLOW_CONNECTIONS false, sessions terminated)"
                    }
                    (Side::Orders, Refusal::Closed) => {
                        "closed for maintenance for 10 s (ALLOW_CONNECTIONS false, sessions terminated)"
                    }
                    (_, Refusal::Restarted) => {
                        "restarted with its server (pg_ctl stop -m fast, 5 s, start)"
                    }
                    (_, Refusal::Exhausted) => {
                        "every connection slot held by another client for 15 s, sessions terminated"
                    }
                    (_, Refusal::ReadOnly) => {
                        "read-only for 10 s as after a failover (default_transaction_read_only, sessions terminated)"
                    }
                };
                return format!("{}: {whose} {what}", self.name());
            }
        };
        format!("{}: {what}", self.name())
    }

    pub fn needs_cluster(self) -> bool {
        self == Self::ClusterNodeKilled
    }

    /// Strikes the fault and heals it; says what was done, briefly.
    pub async fn strike(
        self,
        system: &mut System,
        cluster: &mut Cluster,
        instance: Option<&Instance>,
    ) -> anyhow::Result<String> {
        let pause = tokio::time::sleep;
        Ok(match self {
            Self::CustomerDatabaseDown => {
                let cut = system.customer_database.refuse();
                pause(Duration::from_secs(20)).await;
                system.customer_database.accept_again();
                format!("20 s, {cut} connections cut")
            }
            Self::OrderDatabaseDown => {
                let cut = system.order_database.refuse();
                pause(Duration::from_secs(10)).await;
                system.order_database.accept_again();
                format!("10 s, {cut} connections cut")
            }
            Self::BrokerRestarted => {
                cluster.ctl(0, &["stop_app"]).await?;
                pause(Duration::from_secs(10)).await;
                cluster.ctl(0, &["start_app"]).await?;
                "stop_app, 10 s, start_app".to_owned()
            }
            Self::BrokerConnectionsCut => {
                let customer = system.customer_broker.cut();
                pause(Duration::from_secs(3)).await;
                let order = system.order_broker.cut();
                format!("{customer} + {order} connections cut")
            }
            Self::CustomerServiceKilled => {
                system.customer.kill().await;
                pause(Duration::from_secs(1)).await;
                system.customer.start().await?;
                "SIGKILL, restarted".to_owned()
            }
            Self::OrderServiceKilled => {
                system.order.kill().await;
                pause(Duration::from_secs(1)).await;
                system.order.start().await?;
                "SIGKILL, restarted".to_owned()
            }
            Self::CustomerServiceFrozen => {
                system.customer.signal("STOP")?;
                pause(Duration::from_secs(10)).await;
                system.customer.signal("CONT")?;
                "SIGSTOP 10 s, SIGCONT".to_owned()
            }
            Self::MessagesDelivered2x => {
                let duplicator = Duplicator::start(cluster).await?;
                pause(Duration::from_secs(10)).await;
                let copies = duplicator.stop(cluster).await?;
                format!("{copies} messages sent twice")
            }
            Self::ClusterNodeKilled => {
                cluster.kill(0).await?;
                "node 1 of 3 SIGKILLed".to_owned()
            }
            Self::Refused(side, refusal) => {
                let database = match side {
                    Side::Orders => &system.orders_db,
                    Side::Customers => &system.customers_db,
                };
                match refusal {
                    Refusal::Closed => {
                        let seconds = if side == Side::Customers { 20 } else { 10 };
                        let cut = database.close().await?;
                        pause(Duration::from_secs(seconds)).await;
                        database.reopen().await?;
                        format!("closed {seconds} s, {cut} sessions terminated")
                    }
                    Refusal::Restarted => {
                        let instance = instance.context("no PostgreSQL server of the suite's")?;
                        instance.restart(Duration::from_secs(5)).await?;
                        "stop -m fast, 5 s, start".to_owned()
                    }
                    Refusal::Exhausted => {
                        let instance = instance.context("no PostgreSQL server of the suite's")?;
                        let held = instance
                            .exhaust(&database.name, Duration::from_secs(15))
                            .await?;
                        format!("{held} slots held 15 s")
                    }
                    Refusal::ReadOnly => {
                        let cut = database.make_read_only().await?;
                        pause(Duration::from_secs(10)).await;
                        let again = database.make_writable().await?;
                        format!("read-only 10 s, {cut} + {again} sessions terminated")
                    }
                }
            }
        })
    }
}
