//! The client's half of rate limiting, shared by every request of a run: at most `rps`
//! requests start in any one-second window; a 429 (which guarantees the server did nothing)
//! holds every request back until the server's `x-ratelimit-reset` / `Retry-After` has
//! passed, lowers the run's own rate for the rest of the run (never above the server's
//! `x-ratelimit-limit`), and is retried. What a run may spend waiting on 429s is one total
//! budget of time, not a count of attempts per request; a wait the budget cannot cover fails
//! at once instead of waiting in silence. Time is tokio's, so the policy is tested on a paused
//! clock. Sends nothing and prints nothing: events go to an observer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// The window the server counts requests in, and a margin: the server counts arrivals, and
/// a first request delayed by connection set-up arrives later than it left.
const WINDOW: Duration = Duration::from_millis(1_050);

/// The first wait after a 429 that says nothing of when to come back: a quarter of the
/// server's one-second window. It doubles with each such 429 to the same request, up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Waits longer than this are announced (`rate limited: waiting 4 s`).
const ANNOUNCE_ABOVE: Duration = Duration::from_secs(1);

/// What a 429 said about the server's limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signal {
    /// How long to wait before retrying (the larger of `x-ratelimit-reset` and `Retry-After`).
    pub retry_after: Option<Duration>,
    /// `x-ratelimit-limit`: the requests per second the server allows.
    pub limit: Option<u32>,
}

/// Something a person waiting on the run should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Every request waits this long for the server's rate limit.
    Waiting { wait: Duration },
    /// The run now sends at most `rps` requests per second.
    Slowed { rps: u32, limit: Option<u32> },
}

/// Told of each [`Event`] as it happens.
pub type Observer = Arc<dyn Fn(Event) + Send + Sync>;

/// Why the run stops retrying 429s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// 429 responses seen in the whole run, this one included.
    pub seen: u32,
    /// Time spent waiting on them.
    pub waited: Duration,
    pub budget: Duration,
    /// The server's `x-ratelimit-limit`, when it gave one.
    pub limit: Option<u32>,
    /// Set when the server asked for a wait longer than what is left of the budget.
    pub asked: Option<Duration>,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seen = if self.seen == 1 {
            "1 response was 429 Too Many Requests".to_owned()
        } else {
            format!("{} responses were 429 Too Many Requests", self.seen)
        };
        match self.asked {
            Some(asked) => write!(
                f,
                "rate limited (429), and the server asks to wait {}, more than the {} left of \
                 the rate-limit budget ({seen} in this run)",
                seconds(asked),
                seconds(self.budget.saturating_sub(self.waited))
            ),
            None => write!(
                f,
                "still rate limited (429) after waiting {} in all ({seen} in this run)",
                seconds(self.waited)
            ),
        }
    }
}

/// `4 s`, `0.8 s`: tenths below ten seconds, whole seconds above.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{s:.1} s").replace(".0 s", " s")
    }
}

/// The rate limit of one run.
pub struct Pacer {
    /// The order requests start in (tokio's mutex is fair: first come, first served).
    queue: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    budget: Duration,
    observer: Option<Observer>,
}

struct State {
    rps: u32,
    /// When the last `rps` requests started.
    starts: VecDeque<Instant>,
    /// No request starts before this (a 429's wait).
    paused_until: Option<Instant>,
    /// The announced end of the current wait.
    announced_until: Option<Instant>,
    /// Time covered by 429 waits (overlapping waits counted once).
    waited: Duration,
    seen: u32,
    /// When the rate was last lowered: a 429 to a request sent before it was sent at the
    /// old rate, and does not lower it again.
    lowered_at: Option<Instant>,
    limit: Option<u32>,
}

impl Pacer {
    /// At most `rps` requests per second (at least 1); at most `budget` of waiting on 429s.
    #[must_use]
    pub fn new(rps: u32, budget: Duration, observer: Option<Observer>) -> Self {
        let rps = rps.max(1);
        Pacer {
            queue: tokio::sync::Mutex::new(()),
            state: Mutex::new(State {
                rps,
                starts: VecDeque::with_capacity(capacity(rps)),
                paused_until: None,
                announced_until: None,
                waited: Duration::ZERO,
                seen: 0,
                lowered_at: None,
                limit: None,
            }),
            budget,
            observer,
        }
    }

    /// The current rate.
    #[must_use]
    pub fn rps(&self) -> u32 {
        self.lock().rps
    }

    /// Waits until a request may start; returns when it started. Requests start in the
    /// order they asked (the queue is fair), and the one at the head decides its start only
    /// when it is due: a pause that grows while it waits delays it (and those behind it) by
    /// exactly that much, and no slot is wasted.
    pub async fn acquire(&self) -> Instant {
        let _turn = self.queue.lock().await;
        loop {
            let now = Instant::now();
            let earliest = {
                let mut state = self.lock();
                let earliest = state.earliest(now);
                if earliest <= now {
                    state.started(now);
                    return now;
                }
                earliest
            };
            tokio::time::sleep_until(earliest).await;
        }
    }

    /// A request that started at `started` got a 429: pauses every request, lowers the rate.
    /// `earlier` is how many 429s without a wait this request got before this one (its
    /// backoff doubles with each).
    ///
    /// # Errors
    /// The wait would go beyond the budget: stop and report.
    pub fn rate_limited(
        &self,
        started: Instant,
        signal: Signal,
        earlier: u32,
    ) -> Result<(), Exhausted> {
        let now = Instant::now();
        let mut events = Vec::new();
        let outcome = {
            let mut state = self.lock();
            state.seen = state.seen.saturating_add(1);
            if signal.limit.is_some() {
                state.limit = signal.limit;
            }
            if state.lowered_at.is_none_or(|at| started > at)
                && let Some(rps) = state.lower(signal.limit)
            {
                state.lowered_at = Some(now);
                events.push(Event::Slowed {
                    rps,
                    limit: state.limit,
                });
            }
            let wait = match signal.retry_after {
                Some(wait) => wait + jitter(),
                None => FIRST_BACKOFF
                    .saturating_mul(2u32.saturating_pow(earlier))
                    .min(MAX_BACKOFF),
            };
            let until = now + wait;
            let covered_until = state.paused_until.map_or(now, |p| p.max(now));
            let added = until.saturating_duration_since(covered_until);
            let remaining = self.budget.saturating_sub(state.waited);
            if added > remaining {
                Err(Exhausted {
                    seen: state.seen,
                    waited: state.waited,
                    budget: self.budget,
                    limit: state.limit,
                    asked: signal.retry_after.filter(|asked| *asked > remaining),
                })
            } else {
                state.waited += added;
                state.paused_until = Some(until.max(covered_until));
                // Once per wait: the other requests of a burst extend it by a jitter only.
                let announced = state
                    .announced_until
                    .is_some_and(|a| a + ANNOUNCE_ABOVE >= until);
                if wait > ANNOUNCE_ABOVE && !announced {
                    state.announced_until = Some(until);
                    events.push(Event::Waiting { wait });
                }
                Ok(())
            }
        };
        if let Some(observer) = &self.observer {
            for event in events {
                observer(event);
            }
        }
        outcome
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements: a panic elsewhere cannot break it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    /// When the next request may start (`now` when nothing holds it back): after any pause,
    /// and a window after the request `rps` places back.
    fn earliest(&self, now: Instant) -> Instant {
        let rps = capacity(self.rps);
        let window = (self.starts.len() >= rps)
            .then(|| self.starts.get(self.starts.len() - rps))
            .flatten()
            .map(|nth_back| *nth_back + WINDOW);
        [self.paused_until, window]
            .into_iter()
            .flatten()
            .fold(now, Instant::max)
    }

    fn started(&mut self, at: Instant) {
        self.starts.push_back(at);
        while self.starts.len() > capacity(self.rps) {
            self.starts.pop_front();
        }
    }

    /// Lowers the rate after a 429: to the server's limit when it is below ours, else by
    /// half. Returns the new rate when it changed.
    fn lower(&mut self, limit: Option<u32>) -> Option<u32> {
        let target = match limit {
            Some(limit) if limit >= 1 && limit < self.rps => limit,
            // At or below the server's limit and still refused: others share the user's
            // quota (TFE counts per user, not per token).
            _ => (self.rps / 2).max(1),
        };
        if target >= self.rps {
            return None;
        }
        self.rps = target;
        let keep = capacity(target);
        while self.starts.len() > keep {
            self.starts.pop_front();
        }
        Some(target)
    }
}

fn capacity(rps: u32) -> usize {
    usize::try_from(rps).unwrap_or(usize::MAX).max(1)
}

/// Up to 100 ms, so that clients told to wait the same time do not return together.
fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(u64::from(nanos % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> (Observer, Arc<Mutex<Vec<Event>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let observer: Observer = Arc::new(move |e| {
            if let Ok(mut list) = sink.lock() {
                list.push(e);
            }
        });
        (observer, events)
    }

    fn events(list: &Arc<Mutex<Vec<Event>>>) -> Vec<Event> {
        list.lock().map(|l| l.clone()).unwrap_or_default()
    }

    const BUDGET: Duration = Duration::from_mins(2);

    #[tokio::test(start_paused = true)]
    async fn never_more_than_rps_start_in_a_window_and_a_burst_goes_at_once() {
        let pacer = Pacer::new(5, BUDGET, None);
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..12 {
            starts.push(pacer.acquire().await - start);
        }
        assert!(starts[..5].iter().all(Duration::is_zero), "{starts:?}");
        for i in 5..starts.len() {
            assert!(
                starts[i].saturating_sub(starts[i - 5]) >= WINDOW,
                "{starts:?}"
            );
        }
        assert_eq!(starts[11], WINDOW * 2, "{starts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_with_headers_pauses_everyone_and_lowers_the_rate_to_the_servers_limit() {
        let (observer, seen) = recorder();
        let pacer = Pacer::new(30, BUDGET, Some(observer));
        let start = pacer.acquire().await;
        let signal = Signal {
            retry_after: Some(Duration::from_secs(4)),
            limit: Some(2),
        };
        assert_eq!(pacer.rate_limited(start, signal, 0), Ok(()));
        assert_eq!(pacer.rps(), 2);
        // The other requests of the same burst were sent at the old rate: no lower again.
        assert_eq!(pacer.rate_limited(start, signal, 0), Ok(()));
        assert_eq!(pacer.rps(), 2);
        let events = events(&seen);
        assert_eq!(
            events[0],
            Event::Slowed {
                rps: 2,
                limit: Some(2)
            }
        );
        assert!(matches!(events[1], Event::Waiting { wait } if wait >= Duration::from_secs(4)));
        assert_eq!(events.len(), 2, "one announcement per wait: {events:?}");
        // Nothing starts before the wait is over, then two per window.
        let after: Vec<Duration> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(pacer.acquire().await - start);
            }
            v
        };
        assert!(after[0] >= Duration::from_secs(4), "{after:?}");
        assert!(after[0] < Duration::from_millis(4_100), "{after:?}");
        assert!(after[2].saturating_sub(after[0]) >= WINDOW, "{after:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_waiting_when_the_pause_grows_starts_right_after_it() {
        let pacer = Arc::new(Pacer::new(30, BUDGET, None));
        let start = Instant::now();
        let first = pacer.acquire().await;
        let second = pacer.acquire().await;
        let one_second = Signal {
            retry_after: Some(Duration::from_secs(1)),
            limit: Some(1),
        };
        assert_eq!(pacer.rate_limited(first, one_second, 0), Ok(()));
        // The first one's retry waits for the pause...
        let waiting = Arc::clone(&pacer);
        let retry = tokio::spawn(async move { waiting.acquire().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        // ...and the second's 429, a little later, asks for longer.
        let longer = Signal {
            retry_after: Some(Duration::from_millis(1_200)),
            limit: Some(1),
        };
        assert_eq!(pacer.rate_limited(second, longer, 0), Ok(()));
        let Ok(started) = retry.await else {
            panic!("the retry task failed")
        };
        let after = started.saturating_duration_since(start);
        // Right after the longer pause (1.21 s and jitter), not a window after the slot it
        // was due at first.
        assert!(after >= Duration::from_millis(1_210), "{after:?}");
        assert!(after < Duration::from_millis(1_400), "{after:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_without_headers_backs_off_and_halves_the_rate() {
        let pacer = Pacer::new(30, BUDGET, None);
        let mut waits = Vec::new();
        for earlier in 0..7 {
            let started = pacer.acquire().await;
            assert_eq!(
                pacer.rate_limited(started, Signal::default(), earlier),
                Ok(())
            );
            let next = pacer.acquire().await;
            waits.push(next - started);
        }
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        // 250 ms doubling up to 8 s (pacing may add a little on top).
        assert_eq!(ms[..6], [250, 500, 1000, 2000, 4000, 8000], "{ms:?}");
        assert_eq!(ms[6], 8000, "{ms:?}");
        assert_eq!(pacer.rps(), 1);
        // Another request starts its own backoff over.
        let started = pacer.acquire().await;
        assert_eq!(pacer.rate_limited(started, Signal::default(), 0), Ok(()));
        assert_eq!(
            pacer.acquire().await - started,
            Duration::from_millis(1_050)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_never_goes_above_the_limit_nor_below_one() {
        let pacer = Pacer::new(3, BUDGET, None);
        let limit = Signal {
            retry_after: Some(Duration::ZERO),
            limit: Some(50),
        };
        let started = pacer.acquire().await;
        assert_eq!(pacer.rate_limited(started, limit, 0), Ok(()));
        assert_eq!(pacer.rps(), 1, "at or below the server's limit: halved");
        let started = pacer.acquire().await;
        assert_eq!(pacer.rate_limited(started, limit, 0), Ok(()));
        assert_eq!(pacer.rps(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_is_a_total_time_and_overlapping_waits_count_once() {
        let budget = Duration::from_secs(10);
        let pacer = Pacer::new(30, budget, None);
        let three = Signal {
            retry_after: Some(Duration::from_secs(3)),
            limit: None,
        };
        // Ten requests of one burst told to wait 3 s: 3 s of the budget, not 30.
        let started = pacer.acquire().await;
        for _ in 0..10 {
            assert_eq!(pacer.rate_limited(started, three, 0), Ok(()));
        }
        let started = pacer.acquire().await;
        assert_eq!(pacer.rate_limited(started, three, 0), Ok(()));
        let started = pacer.acquire().await;
        assert_eq!(pacer.rate_limited(started, three, 0), Ok(()));
        // About 9.2 s spent: another 3 s does not fit.
        let started = pacer.acquire().await;
        let Err(exhausted) = pacer.rate_limited(started, three, 0) else {
            panic!("the budget should be spent")
        };
        assert_eq!(exhausted.seen, 13);
        assert!(exhausted.waited >= Duration::from_secs(9), "{exhausted:?}");
        assert!(exhausted.waited <= budget, "{exhausted:?}");
        assert_eq!(exhausted.budget, budget);
        assert_eq!(exhausted.asked, Some(Duration::from_secs(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_the_budget_fails_at_once_without_waiting() {
        let (observer, seen) = recorder();
        let pacer = Pacer::new(30, BUDGET, Some(observer));
        let started = pacer.acquire().await;
        let hour = Signal {
            retry_after: Some(Duration::from_hours(1)),
            limit: Some(30),
        };
        let before = Instant::now();
        let Err(exhausted) = pacer.rate_limited(started, hour, 0) else {
            panic!("an hour is beyond two minutes")
        };
        assert_eq!(Instant::now(), before);
        assert_eq!(exhausted.asked, Some(Duration::from_hours(1)));
        assert_eq!(exhausted.waited, Duration::ZERO);
        assert_eq!(exhausted.limit, Some(30));
        assert!(
            !events(&seen)
                .iter()
                .any(|e| matches!(e, Event::Waiting { .. })),
            "nothing announced for a wait that does not happen"
        );
    }

    #[test]
    fn the_message_says_how_many_429s_and_how_long() {
        let spent = Exhausted {
            seen: 7,
            waited: Duration::from_millis(118_400),
            budget: Duration::from_mins(2),
            limit: Some(2),
            asked: None,
        };
        assert_eq!(
            spent.to_string(),
            "still rate limited (429) after waiting 118 s in all (7 responses were 429 Too Many \
             Requests in this run)"
        );
        let hour = Exhausted {
            seen: 1,
            waited: Duration::ZERO,
            asked: Some(Duration::from_hours(1)),
            ..spent
        };
        assert_eq!(
            hour.to_string(),
            "rate limited (429), and the server asks to wait 3600 s, more than the 120 s left of \
             the rate-limit budget (1 response was 429 Too Many Requests in this run)"
        );
        assert_eq!(seconds(Duration::from_millis(750)), "0.8 s");
        assert_eq!(seconds(Duration::from_secs(4)), "4 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_budget_fails_on_the_first_429() {
        let pacer = Pacer::new(30, Duration::ZERO, None);
        let started = pacer.acquire().await;
        let Err(exhausted) = pacer.rate_limited(started, Signal::default(), 0) else {
            panic!("no budget")
        };
        assert_eq!((exhausted.seen, exhausted.asked), (1, None));
    }
}
