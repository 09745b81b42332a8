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

/// Runs `command` to its end, as `Command::output` does, and returns its
/// output with its own peak resident set in bytes. It is read from the
/// child's own accounting (`wait4`), not from `RUSAGE_CHILDREN`, which is
/// the largest of every child the test process ever waited for, and so
/// whatever ran in a parallel test.
pub fn output_with_peak_rss(
    command: &mut std::process::Command,
) -> std::io::Result<(std::process::Output, u64)> {
    use std::io::Read;
    use std::process::Stdio;

    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let (status, usage) = reap(&child)?;
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    // Linux counts it in KiB.
    Ok((output, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024))
}

/// Waits for `child` with `wait4`, which gives this child's own resource
/// usage (its CPU time and peak resident set), and reaps it: its `Child`
/// handle must not be waited on afterwards.
pub fn reap(
    child: &std::process::Child,
) -> std::io::Result<(std::process::ExitStatus, libc::rusage)> {
    use std::os::unix::process::ExitStatusExt;

    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `pid` is the caller's own unreaped child; wait4 writes its
    // status and a complete `rusage` into the pointers it is given.
    #[allow(unsafe_code)]
    let (reaped, usage) = unsafe {
        let reaped = libc::wait4(pid, &mut status, 0, usage.as_mut_ptr());
        (reaped, usage.assume_init())
    };
    if reaped != pid {
        return Err(std::io::Error::last_os_error());
    }
    Ok((std::process::ExitStatus::from_raw(status), usage))
}
