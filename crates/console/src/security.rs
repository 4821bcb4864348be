//! The console's request rules (pure): which Host and Origin a request may carry, the session
//! cookie, the CSRF token and per-exception form tickets, and the optional token login. The rules
//! with their numbers are in the crate's `RULES.md`; `guard.rs` applies them to every request.

use std::net::{IpAddr, SocketAddr};

use hmac::{Hmac, Mac};
use leadflow_events::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "leadflow_console_session";
/// A login token must be at least this long (C5).
pub const MIN_TOKEN_CHARS: usize = 16;
/// A session id: 32 random bytes, hex.
const SID_HEX_LEN: usize = 64;

/// What the guard knows about one request.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestFacts<'a> {
    /// GET, HEAD or OPTIONS (changes nothing).
    pub safe_method: bool,
    pub path: &'a str,
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub fetch_site: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub authorization: Option<&'a str>,
}

/// A browser session: the id the CSRF token and form tickets are bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub sid: String,
    /// Logged in with the token (or no login is configured).
    pub authenticated: bool,
    /// Minted for this request: the response sets the cookie.
    pub fresh: bool,
}

/// The guard's decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass(Session),
    /// 403 with this reason.
    Refuse(&'static str),
    /// Not logged in: a page request goes to the login form.
    Login,
}

/// The console's keys and rules, built once at start.
pub struct Security {
    /// HMAC key for tokens, tickets and login cookies: random per process.
    key: [u8; 32],
    login: Option<Secret>,
    hosts: Vec<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The host name of a `Host` header value or an origin's authority (lower case, port removed).
fn host_name(authority: &str) -> Option<String> {
    let a = authority.trim().to_ascii_lowercase();
    if a.is_empty() || a.contains(['/', '@', ' ', '\\']) {
        return None;
    }
    if a.starts_with('[') {
        let end = a.find(']')?;
        let rest = &a[end + 1..];
        if !(rest.is_empty() || rest.starts_with(':') && rest[1..].parse::<u16>().is_ok()) {
            return None;
        }
        return Some(a[..=end].to_owned());
    }
    match a.split_once(':') {
        Some((h, port)) if port.parse::<u16>().is_ok() && !h.is_empty() => Some(h.to_owned()),
        Some(_) => None,
        None => Some(a),
    }
}

/// `scheme://authority` of an origin or URL; `None` for `null` or anything else.
fn origin_authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

impl Security {
    /// C4: a non-loopback `bound` address needs a login token. `extra_hosts`: further host names
    /// the console may be reached by (a proxy's name).
    pub fn new(
        bound: SocketAddr,
        login: Option<Secret>,
        extra_hosts: &[String],
    ) -> Result<Security, String> {
        if !bound.ip().is_loopback() && login.is_none() {
            return Err(format!(
                "refusing to serve the console on {bound}, which is not a loopback address, without a login: \
                 give a token with --token-file or LEADFLOW_CONSOLE_TOKEN (or listen on 127.0.0.1)"
            ));
        }
        if let Some(t) = &login {
            if t.expose().chars().count() < MIN_TOKEN_CHARS {
                return Err(format!(
                    "the console login token must be at least {MIN_TOKEN_CHARS} characters"
                ));
            }
        }
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let ip = match bound.ip() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        if !bound.ip().is_unspecified() {
            hosts.push(ip);
        }
        for h in extra_hosts {
            match host_name(h) {
                Some(name) => hosts.push(name),
                None => return Err(format!("--allowed-host {h:?} is not a host name")),
            }
        }
        let mut key = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut key);
        Ok(Security { key, login, hosts })
    }

    /// Whether a token login is configured.
    pub fn login_required(&self) -> bool {
        self.login.is_some()
    }

    fn mac(&self, purpose: &str, parts: &[&str]) -> String {
        // length-prefixed parts: ("a", "b:c") and ("a:b", "c") never collide
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        m.update(purpose.as_bytes());
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p.as_bytes());
        }
        hex(&m.finalize().into_bytes())
    }

    /// C1: the CSRF token of a session (the hidden `csrf` field of every form).
    pub fn csrf_token(&self, sid: &str) -> String {
        self.mac("csrf", &[sid])
    }

    /// C1, constant time.
    pub fn csrf_ok(&self, sid: &str, given: &str) -> bool {
        ct_eq(&self.csrf_token(sid), given)
    }

    /// C3: the ticket of one exception's action forms for one session (the hidden `ticket` field):
    /// a form acts only on the exception the session was shown.
    pub fn ticket(&self, sid: &str, exception_id: &str) -> String {
        self.mac("ticket", &[sid, exception_id])
    }

    /// C3, constant time.
    pub fn ticket_ok(&self, sid: &str, exception_id: &str, given: &str) -> bool {
        ct_eq(&self.ticket(sid, exception_id), given)
    }

    /// C5: whether `given` is the login token (constant time: both sides hashed first).
    pub fn token_ok(&self, given: &str) -> bool {
        let Some(token) = &self.login else {
            return false;
        };
        let a = Sha256::digest(token.expose().as_bytes());
        let b = Sha256::digest(given.as_bytes());
        bool::from(a.ct_eq(&b))
    }

    /// A new random session id.
    pub fn new_sid() -> String {
        let mut b = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut b);
        hex(&b)
    }

    /// The cookie value of a session: `sid`, or `sid.mac` once logged in.
    pub fn cookie_value(&self, s: &Session) -> String {
        if s.authenticated && self.login.is_some() {
            format!("{}.{}", s.sid, self.mac("login", &[&s.sid]))
        } else {
            s.sid.clone()
        }
    }

    /// The `Set-Cookie` header of a session (C1: HttpOnly, SameSite=Strict).
    pub fn set_cookie(&self, s: &Session) -> String {
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie_value(s)
        )
    }

    /// The session a `Cookie` header carries, if it is well formed (and its login mark valid).
    pub fn session(&self, cookie_header: Option<&str>) -> Option<Session> {
        let value = cookie_header?
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, v)| v.trim())?;
        let (sid, mark) = match value.split_once('.') {
            Some((sid, mark)) => (sid, Some(mark)),
            None => (value, None),
        };
        if sid.len() != SID_HEX_LEN || !sid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let authenticated = match (&self.login, mark) {
            (None, _) => true,
            (Some(_), Some(mark)) => ct_eq(&self.mac("login", &[sid]), mark),
            (Some(_), None) => false,
        };
        Some(Session {
            sid: sid.to_owned(),
            authenticated,
            fresh: false,
        })
    }

    /// C2: whether a `Host` header names this console.
    pub fn host_ok(&self, host: &str) -> bool {
        host_name(host).is_some_and(|h| self.hosts.contains(&h))
    }

    /// C2: whether an `Origin` (or a `Referer`'s origin) is this console as reached by `host`.
    fn same_origin(&self, url: &str, host: &str) -> bool {
        origin_authority(url).is_some_and(|a| a.eq_ignore_ascii_case(host.trim()))
    }

    /// The rules C2 (Host, Origin), C5 (login) for one request; C1/C3 (form fields) are checked by
    /// the form handlers against the session this returns.
    pub fn judge(&self, r: &RequestFacts<'_>) -> Verdict {
        let Some(host) = r.host.filter(|h| self.host_ok(h)) else {
            return Verdict::Refuse("this console is not served under that host name");
        };
        if !r.safe_method {
            if let Some(site) = r.fetch_site {
                if !matches!(site, "same-origin" | "none") {
                    return Verdict::Refuse("cross-site request refused");
                }
            }
            match (r.origin, r.referer) {
                (Some(origin), _) if !self.same_origin(origin, host) => {
                    return Verdict::Refuse("cross-site request refused (Origin)");
                }
                (None, Some(referer)) if !self.same_origin(referer, host) => {
                    return Verdict::Refuse("cross-site request refused (Referer)");
                }
                _ => {}
            }
        }
        let bearer = r
            .authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| self.token_ok(t.trim()));
        let session = self.session(r.cookie);
        let public = matches!(r.path, "/login" | "/healthz");
        if self.login.is_some()
            && !public
            && !bearer
            && !session.as_ref().is_some_and(|s| s.authenticated)
        {
            return if r.safe_method {
                Verdict::Login
            } else {
                Verdict::Refuse("log in first")
            };
        }
        Verdict::Pass(session.unwrap_or_else(|| Session {
            sid: Self::new_sid(),
            authenticated: self.login.is_none() || bearer,
            fresh: true,
        }))
    }
}

#[cfg(test)]
mod tests;
