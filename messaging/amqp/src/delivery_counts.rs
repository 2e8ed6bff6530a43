//! What a consumer did with its queue's deliveries, counted by queue for
//! `/metrics`: how many it received, how many of those the broker had
//! delivered before (`redelivered`), and how many it dead-lettered as
//! poison, with why. Every series of a queue is registered at zero when its
//! consumer starts, so that a rate over it is right from the first message.

use std::sync::Arc;

/// Why a consumer rejected a delivery as poison (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoisonReason {
    /// Its body is not an envelope of the expected type.
    Undecodable,
    /// The handler called its payload invalid.
    Invalid,
    /// A request without `reply_to` or `correlation_id`: nowhere to answer.
    NoReplyTo,
    /// Its reply could not be encoded.
    UnencodableReply,
}

impl PoisonReason {
    fn label(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::Invalid => "invalid",
            Self::NoReplyTo => "no_reply_to",
            Self::UnencodableReply => "unencodable_reply",
        }
    }
}

/// The counter names of one kind of consumer.
#[derive(Debug)]
pub(crate) struct CountNames {
    consumed: &'static str,
    redelivered: &'static str,
    dead_lettered: &'static str,
    /// The reasons this kind of consumer dead-letters for.
    reasons: &'static [PoisonReason],
}

/// An event subscriber's counters.
pub(crate) const EVENTS: CountNames = CountNames {
    consumed: "events_consumed_total",
    redelivered: "events_redelivered_total",
    dead_lettered: "events_dead_lettered_total",
    reasons: &[PoisonReason::Undecodable, PoisonReason::Invalid],
};

/// An RPC server's counters.
pub(crate) const RPC_REQUESTS: CountNames = CountNames {
    consumed: "rpc_server_consumed_total",
    redelivered: "rpc_server_redelivered_total",
    dead_lettered: "rpc_server_dead_lettered_total",
    reasons: &[
        PoisonReason::Undecodable,
        PoisonReason::NoReplyTo,
        PoisonReason::UnencodableReply,
    ],
};

/// The counters of one consumer's queue. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryCounts {
    names: &'static CountNames,
    queue: Arc<str>,
}

impl DeliveryCounts {
    /// The counters of `queue`, each series registered at zero.
    pub(crate) fn register(names: &'static CountNames, queue: &str) -> Self {
        let counts = Self {
            names,
            queue: queue.into(),
        };
        metrics::counter!(names.consumed, "queue" => counts.label()).increment(0);
        metrics::counter!(names.redelivered, "queue" => counts.label()).increment(0);
        for reason in names.reasons {
            metrics::counter!(names.dead_lettered, "queue" => counts.label(), "reason" => reason.label())
                .increment(0);
        }
        counts
    }

    fn label(&self) -> String {
        self.queue.to_string()
    }

    /// One delivery received; `redelivered` as the broker flagged it.
    pub(crate) fn received(&self, redelivered: bool) {
        metrics::counter!(self.names.consumed, "queue" => self.label()).increment(1);
        if redelivered {
            metrics::counter!(self.names.redelivered, "queue" => self.label()).increment(1);
        }
    }

    /// One delivery rejected as poison, for `reason`.
    pub(crate) fn dead_lettered(&self, reason: PoisonReason) {
        metrics::counter!(self.names.dead_lettered, "queue" => self.label(), "reason" => reason.label())
            .increment(1);
    }
}
