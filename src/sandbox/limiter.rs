//! API rate limiting as TFE does it (seed 002): at most N requests per second per token, per
//! client IP for requests without a known token. A sliding one-second window: a request is
//! allowed when fewer than N requests of the same key were allowed in the second before it,
//! so waiting `x-ratelimit-reset` seconds after a 429 always frees a slot. Refused requests do
//! not count. In-memory bookkeeping only; the caller builds the 429.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(1);

/// Keys with no request in the last window are dropped once there are this many keys.
const SWEEP_ABOVE: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct Limiter {
    windows: HashMap<String, VecDeque<Instant>>,
}

impl Limiter {
    /// Counts a request of `key` at `now`; `Err` with the time until a slot frees when the
    /// key already had `limit` requests in the window. A limit of 0 means no limit.
    pub fn check(&mut self, key: &str, limit: u32, now: Instant) -> Result<(), Duration> {
        if limit == 0 {
            return Ok(());
        }
        if self.windows.len() > SWEEP_ABOVE {
            self.windows.retain(|_, window| {
                window
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < WINDOW)
            });
        }
        let window = self.windows.entry(key.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|first| now.duration_since(*first) >= WINDOW)
        {
            window.pop_front();
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if window.len() < limit {
            window.push_back(now);
            return Ok(());
        }
        // A lowered limit may leave more than `limit` entries; only the newest `limit` matter.
        while window.len() > limit {
            window.pop_front();
        }
        // Full: a slot frees when the oldest of them leaves the window.
        let reset = window.front().map_or(Duration::ZERO, |first| {
            WINDOW.saturating_sub(now.duration_since(*first))
        });
        Err(reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides() {
        let mut limiter = Limiter::default();
        let start = Instant::now();
        for i in 0..3 {
            let at = start + Duration::from_millis(i * 100);
            assert!(limiter.check("t", 3, at).is_ok());
        }
        let refused = limiter.check("t", 3, start + Duration::from_millis(500));
        assert_eq!(refused, Err(Duration::from_millis(500)));
        assert!(
            limiter
                .check("other", 3, start + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .check("t", 3, start + Duration::from_secs(1))
                .is_ok()
        );
        assert!(
            limiter
                .check("t", 3, start + Duration::from_millis(1001))
                .is_err()
        );
        assert!(limiter.check("t", 0, start).is_ok());
    }
}
