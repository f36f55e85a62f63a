//! What a consumer says about something that keeps failing (a queue's pulls, a topic's route
//! lookup, the group's consumer list): the first failure is logged at once with its cause;
//! while it keeps failing, at most one line per interval follows, counting the failures since
//! the previous line and giving the first and the latest error of that stretch (they often
//! differ: a garbage answer, then a refused reconnect, then a timeout; logging only one of them
//! hid the cause). When it succeeds again, one line says after how many failures. A consumer
//! that cannot reach its name server, whose topic has no route or whose group a broker refuses
//! is thereby visible at WARN within its first attempt, without flooding the log.

use std::time::{Duration, Instant};

use crate::error::Error;

pub struct FailureReport {
    /// What fails, as the lines name it ("pull", "route lookup of topic T").
    what: String,
    interval: Duration,
    /// When the last line was written.
    last_line: Option<Instant>,
    /// Failures since the last line, with the first and the latest error among them.
    unreported: u64,
    first_unreported: Option<String>,
    latest_unreported: Option<String>,
    /// Failures since the last success, and when the first of them happened.
    failing: u64,
    failing_since: Option<Instant>,
}

impl FailureReport {
    pub fn new(what: impl Into<String>, interval: Duration) -> Self {
        FailureReport {
            what: what.into(),
            interval,
            last_line: None,
            unreported: 0,
            first_unreported: None,
            latest_unreported: None,
            failing: 0,
            failing_since: None,
        }
    }

    /// Records a failure at `now`; returns the line to log (at WARN), if one is due.
    pub fn failed(&mut self, error: &Error, now: Instant) -> Option<String> {
        self.failing += 1;
        let since = *self.failing_since.get_or_insert(now);
        let text = error.to_string();
        if self.unreported == 0 {
            self.first_unreported = Some(text.clone());
        }
        self.unreported += 1;
        self.latest_unreported = Some(text);
        let due = self.last_line.is_none_or(|t| now.saturating_duration_since(t) >= self.interval);
        if !due {
            return None;
        }
        let line = if self.failing == 1 {
            format!("{} failed, retrying: {}", self.what, error)
        } else {
            let first = self.first_unreported.take().unwrap_or_default();
            let latest = self.latest_unreported.take().unwrap_or_default();
            let errors = if self.unreported == 1 || first == latest {
                format!("error: {latest}")
            } else {
                format!("first error: {first}; latest error: {latest}")
            };
            format!(
                "{} still failing: {} failed since the last report, {} in {:.0} s since it last succeeded; {errors}",
                self.what,
                self.unreported,
                self.failing,
                now.saturating_duration_since(since).as_secs_f64()
            )
        };
        self.last_line = Some(now);
        self.unreported = 0;
        self.first_unreported = None;
        self.latest_unreported = None;
        Some(line)
    }

    /// Records a success at `now`; returns the line to log (at INFO) after a stretch of failures.
    pub fn succeeded(&mut self, now: Instant) -> Option<String> {
        let since = self.failing_since.take()?;
        let line = format!(
            "{} succeeds again after {} failed over {:.0} s",
            self.what,
            self.failing,
            now.saturating_duration_since(since).as_secs_f64()
        );
        self.failing = 0;
        self.unreported = 0;
        self.first_unreported = None;
        self.latest_unreported = None;
        // A new stretch of failures is reported at once.
        self.last_line = None;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_reported_with_first_and_latest_error_and_the_recovery() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut report = FailureReport::new("pull", Duration::from_secs(30));
        let garbage = Error::protocol("pull reply: stored message at byte 0: size -1 is not within 91..=7");
        let refused = Error::network("connect to 127.0.0.1:1 failed: connection refused");
        let timeout = Error::network("pull timed out after 30 s");

        // The first failure at once, with its error.
        let line = report.failed(&garbage, at(0)).unwrap();
        assert!(line.starts_with("pull failed, retrying: ") && line.contains("size -1"), "{line}");
        // Then nothing within the interval...
        assert_eq!(report.failed(&refused, at(1)), None);
        assert_eq!(report.failed(&refused, at(10)), None);
        // ...and one line after it: counts, the first and the latest error of the stretch.
        let line = report.failed(&timeout, at(31)).unwrap();
        assert!(line.starts_with("pull still failing: "), "{line}");
        assert!(line.contains("3 failed since the last report, 4 in 31 s"), "{line}");
        assert!(line.contains("first error: ") && line.contains("connection refused"), "{line}");
        assert!(line.contains("latest error: ") && line.contains("timed out"), "{line}");
        // The same error throughout is given once.
        assert_eq!(report.failed(&timeout, at(40)), None);
        let line = report.failed(&timeout, at(61)).unwrap();
        assert!(line.contains("2 failed since the last report, 6 in 61 s since it last succeeded; error: "), "{line}");
        assert!(!line.contains("first error"), "{line}");

        // Recovery is one line; a later failure is reported at once again.
        let line = report.succeeded(at(62)).unwrap();
        assert_eq!(line, "pull succeeds again after 6 failed over 62 s");
        assert_eq!(report.succeeded(at(63)), None, "nothing to say after a success");
        let line = report.failed(&refused, at(64)).unwrap();
        assert!(line.starts_with("pull failed, retrying: ") && line.contains("refused"), "{line}");
    }

    #[test]
    fn the_subject_names_what_fails() {
        let mut report = FailureReport::new("route lookup of topic T", Duration::from_secs(30));
        let missing = Error::new(crate::ErrorKind::TopicNotFound, "topic T has no route on the name servers");
        let line = report.failed(&missing, Instant::now()).unwrap();
        assert_eq!(
            line,
            "route lookup of topic T failed, retrying: [TOPIC_NOT_FOUND] topic T has no route on the name servers"
        );
    }
}
