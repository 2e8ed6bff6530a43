//! The faults, each struck once while the shoppers shop.

use std::time::Duration;

use anyhow::bail;

use crate::{cluster::Cluster, duplicator::Duplicator, system::System};

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
}

impl Scenario {
    /// Every scenario, in the order the suite runs them (the cluster last: it
    /// leaves the first node dead).
    pub const ALL: [Scenario; 9] = [
        Self::CustomerDatabaseDown,
        Self::OrderDatabaseDown,
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
        })
    }
}
