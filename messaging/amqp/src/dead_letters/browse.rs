//! Listing dead letters without taking them: each queue's dead letters are
//! read, held, and all handed back when the scan closes, so listing twice
//! shows the same messages and leaves the queue as it was.

use super::{
    DeadLetterError, DeadLetters,
    letter::DeadLetter,
    scan::{Reading, Scan},
};

/// One queue's dead letters, as listed.
#[derive(Debug, Clone)]
pub struct QueueLetters {
    /// The source queue.
    pub queue: String,
    /// Its dead-letter queue.
    pub dead_letter_queue: String,
    /// Messages in the dead-letter queue.
    pub depth: u32,
    /// How many it keeps before it refuses more.
    pub limit: i64,
    /// True at its limit: new dead letters wait in the source queue.
    pub full: bool,
    /// The dead letters asked for, oldest first.
    pub letters: Vec<DeadLetter>,
}

impl DeadLetters {
    /// The dead letters of `queue` (a source queue's or a `.dlq`'s name;
    /// `None`: every queue), skipping the first `skip` of each queue and
    /// showing at most `take`.
    pub async fn browse(
        &self,
        queue: Option<&str>,
        skip: u32,
        take: u32,
    ) -> Result<Vec<QueueLetters>, DeadLetterError> {
        let queues = self.selected(queue)?;
        let _turn = self.turn.lock().await;
        let limit = self.topology.dead_letter_limit();
        let mut listed = Vec::with_capacity(queues.len());
        for queue in queues {
            let dlq = queue.dead_letter_queue();
            let reach = skip.saturating_add(take);
            let mut scan = Scan::open(&self.broker, &dlq, Some(reach), Reading::Holding).await?;
            let read = read_letters(&mut scan, &queue.name, skip).await;
            let depth = scan.depth();
            scan.close().await;
            listed.push(QueueLetters {
                letters: read?,
                depth,
                limit,
                full: i64::from(depth) >= limit,
                queue: queue.name,
                dead_letter_queue: dlq,
            });
        }
        Ok(listed)
    }
}

async fn read_letters(
    scan: &mut Scan,
    queue: &str,
    skip: u32,
) -> Result<Vec<DeadLetter>, DeadLetterError> {
    let mut letters = Vec::new();
    let mut seen = 0_u32;
    while let Some(delivery) = scan.next().await? {
        seen += 1;
        if seen > skip {
            letters.push(DeadLetter::read(
                queue,
                &delivery.properties,
                &delivery.data,
            ));
        }
    }
    Ok(letters)
}
