//! A TCP proxy that delays what it forwards, in both directions: each chunk read is written
//! `delay ± jitter` later (uniform), never before the chunk read before it, so a stream stays in
//! order and the link's throughput is not limited. The delay can be changed while connections are
//! open (`set`); 0 forwards at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The proxy's current delay and jitter, in milliseconds.
#[derive(Clone, Default)]
pub struct Delay {
    delay_ms: Arc<AtomicU64>,
    jitter_ms: Arc<AtomicU64>,
}

impl Delay {
    pub fn set(&self, delay: Duration, jitter: Duration) {
        self.jitter_ms
            .store(jitter.as_millis() as u64, Ordering::Relaxed);
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    fn draw(&self) -> Duration {
        let d = self.delay_ms.load(Ordering::Relaxed) as i64;
        let j = self.jitter_ms.load(Ordering::Relaxed) as i64;
        if d == 0 {
            return Duration::ZERO;
        }
        let ms = if j > 0 {
            d + rand::rng().random_range(-j..=j)
        } else {
            d
        };
        Duration::from_millis(ms.max(0) as u64)
    }
}

/// Listens on `listen` and forwards every connection to `upstream`; returns the bound address.
pub async fn start(listen: SocketAddr, upstream: SocketAddr, delay: Delay) -> Result<SocketAddr> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let delay = delay.clone();
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let (ir, iw) = inbound.into_split();
                let (or, ow) = outbound.into_split();
                tokio::spawn(pump(ir, ow, delay.clone()));
                tokio::spawn(pump(or, iw, delay));
            });
        }
    });
    Ok(addr)
}

/// Reads chunks from `from` and writes each to `to` at its release time.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Delay,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut last = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let at = (Instant::now() + delay.draw()).max(last);
                last = at;
                if tx.send((at, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}
