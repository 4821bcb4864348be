//! Loopback ports for the services a test or harness starts.
//!
//! A port taken by binding `127.0.0.1:0` and releasing it comes from the kernel's ephemeral range,
//! the same range every outgoing connection (a client's socket to the broker, say) takes its local
//! port from: between the release and the service's own bind, another process's connection may take
//! it, and the service fails with "Address already in use". So the ports handed out here lie below
//! that range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 on Linux by default), where
//! the kernel never assigns one by itself; each is chosen at random and checked free by binding it.

use std::net::TcpListener;

/// The ports handed out: below Linux's default ephemeral range, above the well-known ones.
const RANGE: std::ops::Range<u16> = 20_000..32_768;

/// A free loopback port outside the ephemeral range (checked free by binding it; the caller's
/// service binds it moments later).
pub fn free_port() -> u16 {
    let span = u128::from(RANGE.end - RANGE.start);
    for _ in 0..1_000 {
        let port = RANGE.start + (uuid::Uuid::new_v4().as_u128() % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {RANGE:?} after 1,000 tries")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_lie_outside_the_ephemeral_range_and_are_bindable() {
        for _ in 0..50 {
            let port = free_port();
            assert!(RANGE.contains(&port), "{port}");
            TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
        }
    }
}
