//! The wasmtime engine every plugin runs in, and the thread that advances
//! its epoch so per-call deadlines can fire.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Bytes of a memory or table slot reset with `memset` rather than `madvise`
/// when an instance is dropped. Instances here are small and short-lived;
/// `madvise` plus copy-on-write faults cost TLB shootdowns across cores that
/// tripled the host's CPU per sample (see `make bench`).
const KEEP_RESIDENT: usize = 8 << 20;

use super::limits::Limits;

/// The wasmtime the host was built with, recorded with every run (a test
/// holds it to the lockfile's).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// How often the epoch advances: the granularity of every deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Builds the engine. `max_instances` bounds the plugin instances alive at
/// once (one per running sample, plus a few for loading), and their linear
/// memories, which an instance reserves as permits before it is created
/// (see `MemorySlots`).
pub fn build(limits: &Limits, max_instances: u32) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(max_instances)
        // No spare memory slots: the pool is split into one shard per core
        // and a thread takes slots from its own shard first, so spare slots
        // get touched (and stay resident) whenever the threads' busiest
        // moments differ: 8 MB more at `-j 256`.
        .total_memories(max_instances)
        .total_tables(max_instances * 8)
        .total_core_instances(max_instances * 8)
        .total_stacks(max_instances)
        .max_memory_size(limits.memory_bytes)
        // A free slot goes to the next instance of any plugin rather than
        // waiting for its own: the slots ever touched (and kept resident)
        // stay as many as the instances ever alive at once.
        .max_unused_warm_slots(0)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        // Where the kernel can (Linux 6.7+), reset only the pages an
        // instance actually touched.
        .pagemap_scan(Enabled::Auto);

    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .consume_fuel(limits.fuel_per_call.is_some())
        // Copying a plugin's small data segments beats mapping them
        // copy-on-write and faulting them in again in every instance.
        .memory_init_cow(false)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// Advances an engine's epoch every tick on its own OS thread, so that no
/// async runtime stall can delay a deadline. Stops when dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("crucible-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
