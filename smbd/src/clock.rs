//! The server's sense of time, injected so that what waits or expires (sessions, tickets,
//! interim responses, lease and oplock break timeouts, durable handles and their scavenger) can
//! be tested in virtual time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A wait for a clock to pass a point.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the server reads the time of day and waits for it to pass.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// Completes once `by` has passed on this clock.
    fn sleep(&self, by: Duration) -> Sleep;
}

/// The system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, by: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(by))
    }
}

/// A clock that moves only when told to, for tests: its sleeps end when [`ManualClock::advance`]
/// takes it past their end.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
    moved: tokio::sync::watch::Sender<SystemTime>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Mutex::new(start),
            moved: tokio::sync::watch::Sender::new(start),
        }
    }

    /// Moves the clock forward by `by`, ending the sleeps it passes.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
        self.moved.send_replace(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep(&self, by: Duration) -> Sleep {
        let end = self.now() + by;
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            while *moved.borrow_and_update() < end {
                if moved.changed().await.is_err() {
                    // The clock is gone: it will never move again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let c = ManualClock::new(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now(), start + Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_manual_sleep_ends_when_the_clock_passes_its_end() {
        let c = std::sync::Arc::new(ManualClock::new(SystemTime::UNIX_EPOCH));
        let mut sleep = c.sleep(Duration::from_secs(35));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        c.advance(Duration::from_secs(34));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        c.advance(Duration::from_secs(1));
        sleep.await;
    }
}
