//! Who this client process is on the wire: the host address peers see (client ids, consumer
//! instance names, unique message keys) and the process-wide generator of unique message keys,
//! which a forked child replaces with its own. The key format is `protocol::msgid`'s.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::sync::OnceLock;
use parking_lot::Mutex;

use crate::protocol::msgid::UniqueIdGenerator;

/// Best-effort address of this host as peers see it: the source address the kernel picks for
/// an outgoing route. A UDP socket is "connected" to a documentation address (192.0.2.1,
/// RFC 5737, never routed; then 2001:db8::1 for IPv6-only hosts), which selects a route but
/// sends nothing. Falls back to 127.0.0.1 when the host has no route at all.
pub fn local_ip() -> IpAddr {
    fn probe(bind: &str, target: &str) -> Option<IpAddr> {
        let socket = UdpSocket::bind(bind).ok()?;
        socket.connect(target).ok()?;
        let ip = socket.local_addr().ok()?.ip();
        (!ip.is_unspecified()).then_some(ip)
    }
    probe("0.0.0.0:0", "192.0.2.1:9")
        .or_else(|| probe("[::]:0", "[2001:db8::1]:9"))
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The unique-key generator of this process, built on first use from [`local_ip`], the
/// process id and a random value. A forked child gets a generator of its own (its pid and
/// random part differ), or parent and child would hand out the same keys from one counter.
pub fn unique_ids() -> &'static UniqueIdGenerator {
    static FIRST: OnceLock<(u32, UniqueIdGenerator)> = OnceLock::new();
    static FORKED: Mutex<Option<(u32, &'static UniqueIdGenerator)>> = Mutex::new(None);
    let pid = crate::process::id();
    let (first_pid, first) = FIRST.get_or_init(|| (pid, generator_for(pid)));
    if *first_pid == pid {
        return first;
    }
    let mut forked = FORKED.lock();
    match *forked {
        Some((p, generator)) if p == pid => generator,
        _ => {
            // Leaked on purpose: once per fork, and callers hold `&'static` references.
            let generator: &'static UniqueIdGenerator = Box::leak(Box::new(generator_for(pid)));
            *forked = Some((pid, generator));
            generator
        }
    }
}

fn generator_for(pid: u32) -> UniqueIdGenerator {
    // Truncation to the low 16 bits is the format (Java casts the pid to short).
    UniqueIdGenerator::with_parts(local_ip(), pid as u16, rand::random::<i32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_generator_per_process_and_a_routable_ip() {
        let a = unique_ids().next_id();
        let b = unique_ids().next_id();
        assert_ne!(a, b);
        assert_eq!(a[..20], b[..20]);
        assert!(std::ptr::eq(unique_ids(), unique_ids()));
        assert!(!local_ip().is_unspecified());
    }
}
