//! The instance pool's linear-memory slots, handed out as permits.
//!
//! The pool has exactly one memory slot per instance it can hold (see
//! `engine::build`), and nearly every component defines one memory. One
//! that defines more takes as many permits, so it waits for free slots
//! where it would otherwise find the pool exhausted mid-run.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::LoadError;

pub(crate) struct MemorySlots {
    permits: Arc<Semaphore>,
    total: u32,
}

/// Slots held by one live instance; released when dropped, which must be
/// after the instance's store (and with it the slots) is gone.
pub(crate) struct SlotPermit(#[allow(dead_code)] OwnedSemaphorePermit);

impl MemorySlots {
    pub(crate) fn new(total: u32) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// The slots one instance of a component takes, from the memories it
    /// defines (`None`: it imports core modules, whose memories no host
    /// provides). Refused when the pool has fewer slots in all.
    pub(crate) fn admit(&self, label: &str, memories: Option<u32>) -> Result<u32, LoadError> {
        let needed = memories.ok_or_else(|| LoadError::NotWasm {
            label: label.to_owned(),
            detail: "it imports core WebAssembly modules, which no host provides".into(),
        })?;
        if needed > self.total {
            return Err(LoadError::TooManyMemories {
                label: label.to_owned(),
                needed,
                available: self.total,
            });
        }
        Ok(needed)
    }

    /// Waits for `memories` slots (at least one, which also bounds the
    /// instances without any memory).
    pub(crate) async fn reserve(&self, memories: u32) -> SlotPermit {
        let wanted = memories.clamp(1, self.total);
        let permit = Arc::clone(&self.permits)
            .acquire_many_owned(wanted)
            .await
            .expect("the memory-slot semaphore is never closed");
        SlotPermit(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_needing_more_memories_than_the_pool_has_is_refused() {
        let slots = MemorySlots::new(8);
        assert_eq!(slots.admit("one.wasm", Some(1)).ok(), Some(1));
        assert_eq!(slots.admit("full.wasm", Some(8)).ok(), Some(8));
        let refused = slots
            .admit("greedy.wasm", Some(9))
            .map_err(|e| e.to_string());
        assert_eq!(
            refused,
            Err(
                "greedy.wasm: an instance defines 9 linear memories, more than the 8 slots \
                 this host's instance pool has"
                    .into()
            )
        );
        let imports = slots.admit("linked.wasm", None).map_err(|e| e.to_string());
        assert!(
            imports
                .as_ref()
                .is_err_and(|e| e.contains("imports core WebAssembly modules")),
            "{imports:?}"
        );
    }

    #[tokio::test]
    async fn an_instance_waits_until_enough_slots_are_free() {
        let slots = MemorySlots::new(3);
        let first = slots.reserve(2).await;
        let second = slots.reserve(0).await;
        let mut third = Box::pin(slots.reserve(2));
        assert!(
            futures_poll_once(third.as_mut()).is_none(),
            "two slots are not free while three of three are held"
        );
        drop(first);
        assert!(futures_poll_once(third.as_mut()).is_some());
        drop(second);
    }

    fn futures_poll_once<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match fut.poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
