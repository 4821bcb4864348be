//! What the sandbox received and holds: recorded requests, Slack messages, CRM objects, emails,
//! and the faults in force.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::faults::{ActiveFault, FaultSpec, Service};

/// One request as recorded (the `Authorization` header is never recorded, only whether it matched).
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    pub seq: u64,
    pub at: String,
    pub service: Service,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The fault that answered, when one did.
    pub fault: Option<String>,
    pub body: Value,
}

/// A message posted to Slack (Web API or webhook).
#[derive(Clone, Debug, Serialize)]
pub struct SlackMessage {
    pub ts: String,
    pub channel: String,
    pub via: &'static str,
    pub text: String,
    pub blocks: Value,
    pub metadata: Value,
    /// A thread reply: the parent message's `ts`.
    pub thread_ts: Option<String>,
    /// How many times `chat.update` replaced the message.
    pub edits: u32,
}

/// A CRM object (contact, task or note) with its properties.
#[derive(Clone, Debug, Serialize)]
pub struct CrmObject {
    pub id: String,
    pub object_type: String,
    pub properties: BTreeMap<String, Value>,
    /// Ids of associated objects, by type.
    pub associations: BTreeMap<String, Vec<String>>,
    /// How many writes touched it (1 = created once, never rewritten).
    pub writes: u32,
}

/// An email accepted over SMTP.
#[derive(Clone, Debug, Serialize)]
pub struct Email {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub data: String,
}

#[derive(Default)]
struct Inner {
    seq: u64,
    requests: Vec<Recorded>,
    slack: Vec<SlackMessage>,
    crm: Vec<CrmObject>,
    /// (object type, unique property value) → index in `crm`
    crm_keys: HashMap<(String, String), usize>,
    emails: Vec<Email>,
    faults: HashMap<Service, ActiveFault>,
    /// DM channel id → the user it talks to (`conversations.open`).
    dm_channels: BTreeMap<String, String>,
    /// Replies of `chat.postMessage` held after the post is recorded: (hold, replies left).
    slack_hold: Option<(std::time::Duration, u32)>,
    /// Message ts → the ephemeral answers shown under it (only the clicking user sees them).
    ephemerals: BTreeMap<String, Vec<String>>,
    /// List id → the contact ids added to it (lists v3 memberships), in the order added.
    lists: BTreeMap<String, Vec<String>>,
}

/// Shared state behind the servers.
pub struct SandboxState {
    pub(crate) slack_bot_token: String,
    pub(crate) hubspot_token: String,
    inner: Mutex<Inner>,
    record: Option<Mutex<File>>,
    interactivity: std::sync::OnceLock<crate::interactivity::Interactivity>,
}

impl SandboxState {
    pub(crate) fn new(
        slack_bot_token: String,
        hubspot_token: String,
        record_file: Option<PathBuf>,
    ) -> std::io::Result<Self> {
        let record = match record_file {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )),
            None => None,
        };
        Ok(Self {
            slack_bot_token,
            hubspot_token,
            inner: Mutex::new(Inner::default()),
            record,
            interactivity: std::sync::OnceLock::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_fault(&self, service: Service, spec: FaultSpec) {
        self.lock().faults.insert(service, ActiveFault::new(spec));
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// The fault answering this request, if any (consumes one unit of a counted fault).
    pub(crate) fn take_fault(&self, service: Service) -> Option<FaultSpec> {
        let mut inner = self.lock();
        let taken = inner.faults.get_mut(&service).and_then(ActiveFault::take);
        if inner
            .faults
            .get(&service)
            .is_some_and(ActiveFault::is_spent)
        {
            inner.faults.remove(&service);
        }
        taken
    }

    /// Faults in force, for the page and `GET /_sandbox/state`.
    pub fn faults(&self) -> Vec<(Service, FaultSpec)> {
        let inner = self.lock();
        let mut v: Vec<_> = inner
            .faults
            .iter()
            .filter(|(_, f)| !f.is_spent())
            .map(|(s, f)| (*s, f.spec.clone()))
            .collect();
        v.sort_by_key(|(s, _)| s.as_str());
        v
    }

    pub(crate) fn record(
        &self,
        service: Service,
        method: &str,
        path: &str,
        status: u16,
        fault: Option<&FaultSpec>,
        body: Value,
    ) {
        let rec = {
            let mut inner = self.lock();
            inner.seq += 1;
            let rec = Recorded {
                seq: inner.seq,
                at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                service,
                method: method.to_owned(),
                path: path.to_owned(),
                status,
                fault: fault.map(|f| format!("{:?}", f.mode).to_ascii_lowercase()),
                body,
            };
            inner.requests.push(rec.clone());
            rec
        };
        if let Some(file) = &self.record {
            if let Ok(line) = serde_json::to_string(&rec) {
                let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
                let _ = writeln!(f, "{line}");
            }
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub fn slack_messages(&self) -> Vec<SlackMessage> {
        self.lock().slack.clone()
    }

    pub fn emails(&self) -> Vec<Email> {
        self.lock().emails.clone()
    }

    /// Adds contacts to a list (lists v3 `memberships/add`): returns the ids added and the ids of
    /// no contact (missing). A member already in the list is neither (HubSpot's answer for it).
    pub(crate) fn add_to_list(&self, list_id: &str, ids: &[String]) -> (Vec<String>, Vec<String>) {
        let mut inner = self.lock();
        let (mut added, mut missing) = (Vec::new(), Vec::new());
        for id in ids {
            let exists = inner
                .crm
                .iter()
                .any(|o| o.object_type == "contacts" && &o.id == id);
            if !exists {
                missing.push(id.clone());
                continue;
            }
            let members = inner.lists.entry(list_id.to_owned()).or_default();
            if !members.contains(id) {
                members.push(id.clone());
                added.push(id.clone());
            }
        }
        (added, missing)
    }

    /// The contact ids of a list, in the order they were added.
    pub fn list_members(&self, list_id: &str) -> Vec<String> {
        self.lock().lists.get(list_id).cloned().unwrap_or_default()
    }

    /// Every list with its members.
    pub fn lists(&self) -> BTreeMap<String, Vec<String>> {
        self.lock().lists.clone()
    }

    /// CRM objects of one type (`contacts`, `tasks`, `notes`).
    pub fn crm_objects(&self, object_type: &str) -> Vec<CrmObject> {
        self.lock()
            .crm
            .iter()
            .filter(|o| o.object_type == object_type)
            .cloned()
            .collect()
    }

    pub(crate) fn push_slack(&self, mut msg: SlackMessage) -> SlackMessage {
        let mut inner = self.lock();
        let n = inner.slack.len() + 1;
        msg.ts = format!("{}.{:06}", chrono::Utc::now().timestamp(), n);
        inner.slack.push(msg.clone());
        msg
    }

    /// Holds the reply of the next `count` successful `chat.postMessage` calls for `delay` *after*
    /// the message is recorded: Slack has the post, the caller has no answer yet (a kill then is a
    /// crash between Slack's acceptance and the caller's receipt).
    pub fn hold_slack_replies(&self, delay: std::time::Duration, count: u32) {
        self.lock().slack_hold = Some((delay, count));
    }

    /// Ends future holds (a reply already held still waits out its delay).
    pub fn release_slack_holds(&self) {
        self.lock().slack_hold = None;
    }

    /// The hold for this reply, if one is in force (consumes one).
    pub(crate) fn take_slack_hold(&self) -> Option<std::time::Duration> {
        let mut inner = self.lock();
        let (delay, left) = inner.slack_hold?;
        inner.slack_hold = (left > 1).then_some((delay, left - 1));
        Some(delay)
    }

    /// The messages of one conversation (by id: a channel's id as [`channel_id`] gives it, or a DM
    /// channel) with `ts` after `oldest` and up to `latest` (`inclusive`: the message at `latest`
    /// too), newest first, as `conversations.history` lists them: thread replies are not listed.
    pub(crate) fn history(
        &self,
        channel: &str,
        oldest: f64,
        (latest, inclusive): (f64, bool),
    ) -> Vec<SlackMessage> {
        let inner = self.lock();
        let mut found: Vec<SlackMessage> = inner
            .slack
            .iter()
            .filter(|m| channel_id(&m.channel) == channel && m.thread_ts.is_none())
            .filter(|m| m.ts.parse::<f64>().is_ok_and(|ts| ts > oldest))
            .filter(|m| {
                m.ts.parse::<f64>()
                    .is_ok_and(|ts| ts < latest || (inclusive && ts == latest))
            })
            .cloned()
            .collect();
        found.reverse();
        found
    }

    /// The channels messages were posted to, as (id, name) (`conversations.list`).
    pub(crate) fn channels(&self) -> Vec<(String, String)> {
        let inner = self.lock();
        let mut out: Vec<(String, String)> = inner
            .slack
            .iter()
            .filter(|m| m.via == "chat.postMessage" && !inner.dm_channels.contains_key(&m.channel))
            .map(|m| {
                (
                    channel_id(&m.channel),
                    m.channel.trim_start_matches('#').to_owned(),
                )
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Where clicks and task completions go (set once at start).
    pub(crate) fn set_interactivity(&self, i: crate::interactivity::Interactivity) {
        let _ = self.interactivity.set(i);
    }

    pub(crate) fn interactivity(&self) -> crate::interactivity::Interactivity {
        self.interactivity.get().cloned().unwrap_or_default()
    }

    /// `response_url` with `replace_original`: the message's blocks (and text) replaced in place.
    pub(crate) fn replace_slack_message(
        &self,
        ts: &str,
        blocks: Value,
        text: Option<String>,
    ) -> bool {
        let mut inner = self.lock();
        let Some(m) = inner.slack.iter_mut().find(|m| m.ts == ts) else {
            return false;
        };
        m.blocks = blocks;
        if let Some(t) = text {
            m.text = t;
        }
        true
    }

    /// `chat.update`: the message `ts` of `channel` (an id or a name) gets new blocks and text.
    /// `false` when there is no such message.
    pub(crate) fn update_slack_message(
        &self,
        channel: &str,
        ts: &str,
        blocks: Value,
        text: String,
    ) -> bool {
        let mut inner = self.lock();
        let Some(m) = inner
            .slack
            .iter_mut()
            .find(|m| m.ts == ts && (m.channel == channel || channel_id(&m.channel) == channel))
        else {
            return false;
        };
        m.blocks = blocks;
        m.text = text;
        m.edits += 1;
        true
    }

    /// An ephemeral answer to a click on the message `ts`.
    pub(crate) fn push_ephemeral(&self, ts: &str, text: &str) {
        self.lock()
            .ephemerals
            .entry(ts.to_owned())
            .or_default()
            .push(text.to_owned());
    }

    /// The ephemeral answers shown under the message `ts`.
    pub fn ephemerals(&self, ts: &str) -> Vec<String> {
        self.lock().ephemerals.get(ts).cloned().unwrap_or_default()
    }

    /// The DM channel with `user` (the same id every time).
    pub(crate) fn open_dm(&self, user: &str) -> String {
        let channel = format!("D{}", &user[1..]);
        self.lock()
            .dm_channels
            .insert(channel.clone(), user.to_owned());
        channel
    }

    /// Messages posted to the direct-message channel opened with `user`.
    pub fn direct_messages(&self, user: &str) -> Vec<SlackMessage> {
        let inner = self.lock();
        inner
            .slack
            .iter()
            .filter(|m| inner.dm_channels.get(&m.channel).is_some_and(|u| u == user))
            .cloned()
            .collect()
    }

    pub(crate) fn push_email(&self, mut email: Email) -> Email {
        let mut inner = self.lock();
        email.id = format!("sandbox-{}", inner.emails.len() + 1);
        inner.emails.push(email.clone());
        email
    }

    /// Creates or updates the object whose `id_property` equals `key`; returns (id, created).
    pub(crate) fn upsert(
        &self,
        object_type: &str,
        key: &str,
        properties: BTreeMap<String, Value>,
    ) -> (String, bool) {
        let mut inner = self.lock();
        let k = (object_type.to_owned(), key.to_owned());
        if let Some(&i) = inner.crm_keys.get(&k) {
            let obj = &mut inner.crm[i];
            obj.properties.extend(properties);
            obj.writes += 1;
            return (obj.id.clone(), false);
        }
        let id = format!("{}", 100_000 + inner.crm.len() as u64 + 1);
        inner.crm.push(CrmObject {
            id: id.clone(),
            object_type: object_type.to_owned(),
            properties,
            associations: BTreeMap::new(),
            writes: 1,
        });
        let i = inner.crm.len() - 1;
        inner.crm_keys.insert(k, i);
        (id, true)
    }

    /// Updates the properties of an existing object, found by its id or, with `id_property`, by
    /// the unique property value; `None` when there is no such object.
    pub(crate) fn update(
        &self,
        object_type: &str,
        id: &str,
        id_property: Option<&str>,
        properties: BTreeMap<String, Value>,
    ) -> Option<CrmObject> {
        let mut inner = self.lock();
        let i = match id_property {
            Some(_) => inner
                .crm_keys
                .get(&(object_type.to_owned(), id.to_owned()))
                .copied(),
            None => inner
                .crm
                .iter()
                .position(|o| o.object_type == object_type && o.id == id),
        }?;
        let obj = &mut inner.crm[i];
        obj.properties.extend(properties);
        obj.writes += 1;
        Some(obj.clone())
    }

    /// Associates two objects both ways; `false` when either does not exist.
    pub(crate) fn associate(&self, from_type: &str, from: &str, to_type: &str, to: &str) -> bool {
        let mut inner = self.lock();
        let fi = inner
            .crm
            .iter()
            .position(|o| o.object_type == from_type && o.id == from);
        let ti = inner
            .crm
            .iter()
            .position(|o| o.object_type == to_type && o.id == to);
        let (Some(fi), Some(ti)) = (fi, ti) else {
            return false;
        };
        let add = |o: &mut CrmObject, t: &str, id: &str| {
            let list = o.associations.entry(t.to_owned()).or_default();
            if !list.iter().any(|x| x == id) {
                list.push(id.to_owned());
            }
        };
        add(&mut inner.crm[fi], to_type, to);
        add(&mut inner.crm[ti], from_type, from);
        true
    }

    /// Everything, as JSON (for `GET /_sandbox/state`).
    pub fn snapshot(&self) -> Value {
        let inner = self.lock();
        serde_json::json!({
            "slack": inner.slack,
            "crm": inner.crm,
            "lists": inner.lists,
            "emails": inner.emails,
            "requests": inner.requests.len(),
        })
    }

    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let seq = inner.seq;
        *inner = Inner::default();
        inner.seq = seq;
    }
}

/// The id of a channel given by name (`#new-leads` or `new-leads`): `C` and a stable hash of the
/// name, as Slack gives every channel an id; an id (`C…`, `G…`, `D…`) is its own id.
pub fn channel_id(channel: &str) -> String {
    let is_id = channel.len() > 1
        && channel.starts_with(['C', 'G', 'D'])
        && channel
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if is_id {
        return channel.to_owned();
    }
    // stable across runs and builds
    let name = channel.trim_start_matches('#');
    let hash = leadflow_events::stable_hash::fnv1a_64(name.as_bytes());
    format!("C{:010X}", hash & 0xFF_FFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::channel_id;

    #[test]
    fn channel_ids_are_stable() {
        let cases = [
            ("#new-leads", "C3DB870DE93"),
            ("new-leads", "C3DB870DE93"),
            ("#a", "C4C8601EC8C"),
            ("C0123ABC", "C0123ABC"),
            ("D42", "D42"),
        ];
        for (name, want) in cases {
            assert_eq!(channel_id(name), want, "{name}");
        }
    }
}
