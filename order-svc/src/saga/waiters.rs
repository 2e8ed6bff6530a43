//! Lets a checkout request wait for its order's saga to end without polling
//! the database in a tight loop: the coordinator signals an order's end here.

use std::{collections::HashMap, sync::Mutex};

use tokio::sync::watch;
use uuid::Uuid;

/// Orders some request is waiting on.
#[derive(Default)]
pub struct OrderWaiters {
    orders: Mutex<HashMap<Uuid, watch::Sender<bool>>>,
}

impl OrderWaiters {
    /// A receiver that turns true when the order's checkout has ended.
    pub fn subscribe(&self, order_id: Uuid) -> watch::Receiver<bool> {
        self.lock()
            .entry(order_id)
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    /// Signals that the order's checkout has ended.
    pub fn ended(&self, order_id: Uuid) {
        if let Some(sender) = self.lock().remove(&order_id) {
            sender.send_replace(true);
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, watch::Sender<bool>>> {
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
        assert!(rx.wait_for(|ended| *ended).await.is_ok());
        waiters.forget(order);
        assert!(waiters.lock().is_empty());
    }
}
