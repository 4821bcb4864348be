//! When a range read looks at the broker, and when it gives up (the module's stall rule). Pure: the
//! caller passes the time.

use std::time::{Duration, Instant};

use super::StallPolicy;

/// What a read waiting for its open partitions does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallAction {
    /// Keep polling.
    Poll,
    /// Read the high watermarks of the open partitions.
    Look,
    /// No progress for `give_up_after`: report the stall, waited this long.
    GiveUp(Duration),
}

/// The times the stall rule needs. Progress is what [`super::Arrival::is_progress`] says: a record
/// inside the range or a partition done; a record of a partition already done is not, so a busy done
/// partition does not put off the look at the others.
#[derive(Clone, Copy, Debug)]
pub struct StallClock {
    policy: StallPolicy,
    progress_at: Instant,
    looked_at: Instant,
}

impl StallClock {
    pub fn new(policy: StallPolicy, now: Instant) -> Self {
        StallClock {
            policy,
            progress_at: now,
            looked_at: now,
        }
    }

    pub fn progressed(&mut self, now: Instant) {
        self.progress_at = now;
    }

    pub fn looked(&mut self, now: Instant) {
        self.looked_at = now;
    }

    /// What to do at `now`. Giving up starts the wait again (a following read goes on after it).
    pub fn action(&mut self, now: Instant) -> StallAction {
        let waited = now.saturating_duration_since(self.progress_at);
        if now.saturating_duration_since(self.progress_at.max(self.looked_at))
            >= self.policy.look_after
        {
            return StallAction::Look;
        }
        if waited >= self.policy.give_up_after {
            self.progress_at = now;
            return StallAction::GiveUp(waited);
        }
        StallAction::Poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn without_progress_the_read_looks_every_5_s_and_gives_up_after_30_s() {
        let t0 = Instant::now();
        let mut c = StallClock::new(StallPolicy::default(), t0);
        assert_eq!(c.action(t0 + secs(4)), StallAction::Poll);
        assert_eq!(c.action(t0 + secs(5)), StallAction::Look);
        c.looked(t0 + secs(5));
        assert_eq!(c.action(t0 + secs(9)), StallAction::Poll);
        let mut at = t0 + secs(5);
        while at < t0 + secs(30) {
            at += secs(5);
            assert_eq!(c.action(at), StallAction::Look, "{:?}", at - t0);
            c.looked(at);
        }
        assert_eq!(c.action(at), StallAction::GiveUp(secs(30)));
        // giving up starts the wait again
        assert_eq!(c.action(at + secs(1)), StallAction::Poll);
    }

    #[test]
    fn progress_puts_off_the_look_and_the_give_up() {
        let t0 = Instant::now();
        let mut c = StallClock::new(StallPolicy::default(), t0);
        c.progressed(t0 + secs(4));
        assert_eq!(c.action(t0 + secs(8)), StallAction::Poll);
        assert_eq!(c.action(t0 + secs(9)), StallAction::Look);
        c.looked(t0 + secs(9));
        c.progressed(t0 + secs(30));
        assert_eq!(
            c.action(t0 + secs(34)),
            StallAction::Poll,
            "no give-up: progress at 30 s"
        );
    }
}
