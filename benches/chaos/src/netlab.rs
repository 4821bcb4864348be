//! A private network for the network-fault run: one Linux network namespace per host (the broker,
//! the Slack/CRM stand-in, each stage) on a bridge in the harness's namespace, and faults made with
//! nftables rules inside a host's namespace (drop everything to or from a peer, drop a share of
//! packets at random, send a host's broker traffic through the harness's delay proxy).
//!
//! Needs root (`ip netns`, veth, a bridge) and the `nft` tool. `tc netem` would be the usual tool for
//! latency and loss, but kernels built without `CONFIG_NET_SCH_NETEM` (this project's CI machines)
//! do not have it; nftables and a user-space delay proxy work on any kernel with nf_tables.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// One host of the lab: its namespace and address.
#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    pub netns: String,
    pub ip: Ipv4Addr,
}

/// The namespaces, veths and bridge of one run; removed when dropped.
pub struct NetLab {
    bridge: String,
    /// The harness's own address on the bridge.
    pub gateway: Ipv4Addr,
    pub hosts: Vec<Host>,
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn ip(args: &[&str]) -> Result<()> {
    run(Command::new("ip").args(args))
}

/// Why namespaces cannot be made here, or `None` when they can (root, `ip` and `nft` present, and
/// a namespace can be added and removed).
pub fn unavailable() -> Option<String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned());
    if uid.as_deref() != Some("0") {
        return Some("network namespaces need root (run as root, e.g. in CI)".into());
    }
    for tool in ["ip", "nft"] {
        if Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            return Some(format!(
                "`{tool}` is not installed (Debian: iproute2, nftables)"
            ));
        }
    }
    let probe = format!("lfprobe{}", std::process::id());
    if let Err(e) = ip(&["netns", "add", &probe]) {
        return Some(format!("cannot add a network namespace: {e}"));
    }
    let _ = ip(&["netns", "del", &probe]);
    None
}

impl NetLab {
    /// Creates a bridge with the harness at `.254` and one namespace per name, at `.1`, `.2`, ...
    /// in a /24 private to this run.
    pub fn create(names: &[&str]) -> Result<Self> {
        let id = std::process::id() % 10_000;
        let third = u8::try_from(id % 200 + 20).unwrap_or(20);
        let bridge = format!("lfn{id}br");
        let gateway = Ipv4Addr::new(10, 213, third, 254);
        let mut lab = Self {
            bridge: bridge.clone(),
            gateway,
            hosts: Vec::new(),
        };
        let _ = ip(&["link", "del", &bridge]);
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{gateway}/24"), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for (i, name) in names.iter().enumerate() {
            let n = u8::try_from(i + 1).context("too many hosts")?;
            let host = Host {
                name: (*name).to_owned(),
                netns: format!("lfn{id}-{name}"),
                ip: Ipv4Addr::new(10, 213, third, n),
            };
            let veth = format!("lfn{id}h{n}");
            let _ = ip(&["netns", "del", &host.netns]);
            ip(&["netns", "add", &host.netns])?;
            ip(&[
                "link",
                "add",
                &veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                &host.netns,
            ])?;
            ip(&["link", "set", &veth, "master", &bridge, "up"])?;
            ip(&[
                "-n",
                &host.netns,
                "addr",
                "add",
                &format!("{}/24", host.ip),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &host.netns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &host.netns, "link", "set", "lo", "up"])?;
            lab.hosts.push(host);
        }
        Ok(lab)
    }

    pub fn host(&self, name: &str) -> Result<&Host> {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .with_context(|| format!("no host {name} in the lab"))
    }

    /// A shell script that runs `binary` inside `host`'s namespace (exec all the way, so the
    /// process keeps the script's pid and a SIGKILL reaches it).
    pub fn wrapper(&self, host: &str, binary: &std::path::Path) -> Result<String> {
        Ok(format!(
            "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
            self.host(host)?.netns,
            binary.display()
        ))
    }

    /// Loads an nftables ruleset (one table named `fault`) into `host`'s namespace, replacing the
    /// previous one.
    fn set_rules(&self, host: &str, body: &str) -> Result<()> {
        self.clear(host);
        let script = format!("table inet fault {{\n{body}\n}}\n");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.host(host)?.netns, "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("running nft")?;
        child
            .stdin
            .take()
            .context("nft stdin")?
            .write_all(script.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "nft in {host} refused {script:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Removes `host`'s fault rules (the link works again).
    pub fn clear(&self, host: &str) {
        let Ok(h) = self.host(host) else {
            return;
        };
        let _ = run(Command::new("ip").args([
            "netns", "exec", &h.netns, "nft", "delete", "table", "inet", "fault",
        ]));
    }

    /// Drops every packet between `host` and `peer` (a partition; connections time out, nothing
    /// is refused).
    pub fn cut(&self, host: &str, peer: Ipv4Addr) -> Result<()> {
        self.set_rules(
            host,
            &format!(
                "chain in {{ type filter hook input priority 0; policy accept; ip saddr {peer} drop; }}\n\
                 chain out {{ type filter hook output priority 0; policy accept; ip daddr {peer} drop; }}"
            ),
        )
    }

    /// Drops every packet in and out of `host` but its loopback's.
    pub fn isolate(&self, host: &str) -> Result<()> {
        self.set_rules(
            host,
            "chain in { type filter hook input priority 0; policy accept; iifname != \"lo\" drop; }\n\
             chain out { type filter hook output priority 0; policy accept; oifname != \"lo\" drop; }",
        )
    }

    /// Drops `percent` % of the packets in each direction at random, and sends `host`'s
    /// connections to `from` through `via` (the delay proxy).
    pub fn degrade(
        &self,
        host: &str,
        percent: u8,
        redirect: Option<((Ipv4Addr, u16), (Ipv4Addr, u16))>,
    ) -> Result<()> {
        let mut body = format!(
            "chain in {{ type filter hook input priority 0; policy accept; iifname \"eth0\" numgen random mod 100 < {percent} drop; }}\n\
             chain out {{ type filter hook output priority 0; policy accept; oifname \"eth0\" numgen random mod 100 < {percent} drop; }}"
        );
        if let Some(((from_ip, from_port), (via_ip, via_port))) = redirect {
            body.push_str(&format!(
                "\nchain nat_out {{ type nat hook output priority -100; policy accept; ip daddr {from_ip} tcp dport {from_port} dnat ip to {via_ip}:{via_port}; }}"
            ));
        }
        self.set_rules(host, &body)
    }

    /// Sends `host`'s connections to `from` through `via`, with no loss.
    pub fn redirect(&self, host: &str, from: (Ipv4Addr, u16), via: (Ipv4Addr, u16)) -> Result<()> {
        self.set_rules(
            host,
            &format!(
                "chain nat_out {{ type nat hook output priority -100; policy accept; ip daddr {} tcp dport {} dnat ip to {}:{}; }}",
                from.0, from.1, via.0, via.1
            ),
        )
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        for h in &self.hosts {
            let _ = ip(&["netns", "del", &h.netns]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}
