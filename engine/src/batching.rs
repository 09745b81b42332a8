//! Gathering items sent to a writer thread into batches, so that each
//! database transaction carries many of them.
//!
//! Taking only what is already queued is not enough: a writer that wakes
//! for every item commits one item at a time. Once the first item of a
//! batch arrives, the writer sleeps a short window and then takes what
//! has queued meanwhile: one wake-up a batch, not one an item.

use std::sync::mpsc::Receiver;
use std::time::Duration;

/// Items in one batch, at most.
pub const MAX_BATCH: usize = 128;
/// How long the first item of a batch waits for others.
pub const WINDOW: Duration = Duration::from_millis(50);

/// The next batch: blocks for its first item, then after the window takes
/// whatever else has queued, up to a full batch. `None` once every sender
/// is gone and nothing is left.
pub fn next_batch<T>(receiver: &Receiver<T>) -> Option<Vec<T>> {
    let first = receiver.recv().ok()?;
    let mut batch = vec![first];
    if batch.len() < MAX_BATCH {
        // Whatever is already queued needs no window: a full batch, or
        // the rest of a finished run, goes at once.
        batch.extend(receiver.try_iter().take(MAX_BATCH - 1));
    }
    if batch.len() < MAX_BATCH {
        std::thread::sleep(WINDOW);
        batch.extend(receiver.try_iter().take(MAX_BATCH - batch.len()));
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_sent_together_share_a_batch_and_nothing_is_lost() {
        let (sender, receiver) = std::sync::mpsc::channel();
        for i in 0..MAX_BATCH + 10 {
            sender.send(i).expect("the receiver is alive");
        }
        drop(sender);
        let first = next_batch(&receiver).expect("a batch");
        assert_eq!(first.len(), MAX_BATCH);
        let second = next_batch(&receiver).expect("the rest");
        assert_eq!(second, (MAX_BATCH..MAX_BATCH + 10).collect::<Vec<_>>());
        assert!(next_batch(&receiver).is_none());
    }

    #[test]
    fn a_lone_item_is_written_once_the_window_closes() {
        let (sender, receiver) = std::sync::mpsc::channel();
        sender.send(1).expect("the receiver is alive");
        let started = std::time::Instant::now();
        assert_eq!(next_batch(&receiver), Some(vec![1]));
        assert!(started.elapsed() >= WINDOW);
        drop(sender);
    }
}
