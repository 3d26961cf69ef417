//! What the emulated installation "sent" or did outside its settings: test mails, test SMS,
//! and a count of every action called (OIDC key rotations and trims among them). Read by
//! tests through `GET /_sandbox/outbox`; kept in memory only, never persisted, and never
//! holding a secret.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::specific::Effect;

#[derive(Debug, Default)]
pub(crate) struct Outbox {
    mails: Vec<Value>,
    sms: Vec<Value>,
    /// `section.action` -> number of successful calls.
    actions: BTreeMap<String, u64>,
}

impl Outbox {
    pub fn record(&mut self, effect: Effect) {
        let at = timestamp(SystemTime::now());
        match effect {
            Effect::Mail { to } => self.mails.push(json!({ "to": to, "at": at })),
            Effect::Sms { to, from } => self.sms.push(json!({ "to": to, "from": from, "at": at })),
        }
    }

    pub fn count_action(&mut self, section: &str, action: &str) {
        *self
            .actions
            .entry(format!("{section}.{action}"))
            .or_default() += 1;
    }

    /// `{"mails":[{to,at}],"sms":[{to,from,at}],"oidc":{"rotations":n,"trims":n},"actions":{..}}`
    pub fn to_json(&self) -> Value {
        let count = |name: &str| self.actions.get(name).copied().unwrap_or(0);
        json!({
            "mails": self.mails,
            "sms": self.sms,
            "oidc": {
                "rotations": count("oidc.rotate-key"),
                "trims": count("oidc.trim-key"),
            },
            "actions": self.actions,
        })
    }
}

/// An RFC 3339 UTC timestamp with seconds (`2026-11-23T19:06:00Z`).
pub(crate) fn timestamp(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The Gregorian date `days` after 1970-01-01: whole years first, then months.
fn civil_date(mut days: u64) -> (u64, u64, u64) {
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut year = 1970;
    loop {
        let length = if leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let february = if leap(year) { 29 } else { 28 };
    let months = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 1;
    for length in months {
        if days < length {
            break;
        }
        days -= length;
        month += 1;
    }
    (year, month, days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339() {
        let at = |s| timestamp(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_704_067_199), "2023-12-31T23:59:59Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
    }
}
