//! Lets a checkout request wait for its order's saga to end without polling
//! the database in a tight loop: the coordinator signals an order's end here,
//! with the order as the transaction that ended its saga read it, when it
//! has that at hand (the checkout then answers without reading it again).

use std::{collections::HashMap, sync::Arc, sync::Mutex};

use tokio::sync::watch;
use uuid::Uuid;

use crate::db::orders::OrderRecord;

/// Where an order's checkout stands, as its waiters see it.
#[derive(Debug, Clone, Default)]
pub enum Signal {
    /// Its saga has not ended yet (as far as this instance knows).
    #[default]
    Pending,
    /// Its saga ended; with the order as the ending transaction read it, when
    /// the coordinator had it.
    Ended(Option<Arc<OrderRecord>>),
}

impl Signal {
    /// True once the saga has ended.
    pub fn has_ended(&self) -> bool {
        matches!(self, Self::Ended(_))
    }
}

/// Orders some request is waiting on.
#[derive(Default)]
pub struct OrderWaiters {
    orders: Mutex<HashMap<Uuid, watch::Sender<Signal>>>,
}

impl OrderWaiters {
    /// A receiver that turns to `Ended` when the order's checkout has ended.
    pub fn subscribe(&self, order_id: Uuid) -> watch::Receiver<Signal> {
        self.lock()
            .entry(order_id)
            .or_insert_with(|| watch::channel(Signal::Pending).0)
            .subscribe()
    }

    /// Signals that the order's checkout has ended.
    pub fn ended(&self, order_id: Uuid) {
        self.ended_with(order_id, None);
    }

    /// Signals that the order's checkout has ended, with the order as the
    /// transaction that ended it read it.
    pub fn ended_with(&self, order_id: Uuid, record: Option<OrderRecord>) {
        if let Some(sender) = self.lock().remove(&order_id) {
            sender.send_replace(Signal::Ended(record.map(Arc::new)));
        }
    }

    /// Forgets an order nobody waits for any more.
    pub fn forget(&self, order_id: Uuid) {
        let mut orders = self.lock();
        if orders
            .get(&order_id)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            orders.remove(&order_id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, watch::Sender<Signal>>> {
        self.orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiter_sees_the_end_even_if_it_came_first() {
        let waiters = OrderWaiters::default();
        let order = Uuid::new_v4();
        let mut rx = waiters.subscribe(order);
        waiters.ended(order);
        assert!(rx.wait_for(Signal::has_ended).await.is_ok());
        waiters.forget(order);
        assert!(waiters.lock().is_empty());
    }
}
