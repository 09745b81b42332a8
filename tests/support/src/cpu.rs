//! CPU time as the benchmarks measure it: user plus system, from the
//! kernel's resource accounting.

use std::time::Duration;

/// User plus system time recorded in `usage`.
pub fn cpu_time(usage: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time this process has used so far.
pub fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is
    // given, and RUSAGE_SELF is always a valid target.
    #[allow(unsafe_code)]
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    cpu_time(&usage)
}

/// The largest peak resident set, in bytes, of any child of this process
/// that has been waited for.
pub fn children_peak_rss_bytes() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is
    // given, and RUSAGE_CHILDREN is always a valid target.
    #[allow(unsafe_code)]
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    // Linux counts it in KiB.
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}
