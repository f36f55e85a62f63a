//! What the benchmark programs (`src/bin/bench_*.rs`) share: argument parsing, the runtime,
//! and the process's own accounting (CPU seconds, RSS) read the same way for every side.

use std::collections::HashMap;

pub type BoxResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A multi-thread runtime with one worker per CPU this process may run on (1 when pinned).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}

pub struct Opts {
    pub named: HashMap<String, String>,
    pub positional: Vec<String>,
    pub command: Vec<String>,
}

impl Opts {
    pub fn parse(args: &[String]) -> Self {
        let mut named = HashMap::new();
        let mut positional = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--" {
                return Opts { named, positional, command: it.cloned().collect() };
            }
            match a.strip_prefix("--") {
                Some(k) => {
                    named.insert(k.to_owned(), it.next().cloned().unwrap_or_default());
                }
                None => positional.push(a.clone()),
            }
        }
        Opts { named, positional, command: Vec::new() }
    }

    pub fn str(&self, key: &str) -> BoxResult<&str> {
        self.named.get(key).map(String::as_str).ok_or_else(|| format!("--{key} is required").into())
    }

    pub fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> BoxResult<T> {
        match self.named.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key}: bad value {v:?}").into()),
        }
    }

    pub fn list(&self, key: &str, default: &str) -> Vec<String> {
        let raw = self.named.get(key).map(String::as_str).unwrap_or(default);
        raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }
}

/// User + system CPU seconds of this process (every thread), from getrusage.
pub fn cpu_secs() -> f64 {
    let (user, system) = user_and_system_cpu_secs();
    user + system
}

/// User and system CPU seconds of this process (every thread), from getrusage. Linux splits
/// the (exact) total between the two in proportion to the clock ticks that found the process
/// in each, so the split of a short interval is approximate.
pub fn user_and_system_cpu_secs() -> (f64, f64) {
    let ru = own_rusage();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

/// Minor page faults of this process so far (every thread), from getrusage: each is a page
/// the process touched for the first time (or again after giving it back), which the kernel
/// cleared for it.
pub fn minor_faults() -> u64 {
    u64::try_from(own_rusage().ru_minflt).unwrap_or(0)
}

/// getrusage of this process (every thread).
fn own_rusage() -> libc::rusage {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer; cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru
}

/// A `kB` field (VmRSS, VmHWM) of /proc/PID/status.
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Resets this process's VmHWM to its current RSS (Linux >= 4.0), so each phase reports its own
/// peak. Returns false where that is not allowed.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// utime + stime of another process, in seconds.
pub fn proc_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    Some(ticks as f64 / hz as f64)
}

/// The median of `values` (the mean of the middle two of an even count); NaN for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
