//! Adding to a moment without panicking. Stored times come from PayDigital or a database and
//! settings from the environment: `9999-12-31` plus a day of grace must be "never", not a
//! panic on every read.

use std::time::Duration;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `at + d`, or the last moment there is.
pub fn after(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| at.checked_add(d))
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_utc())
}

/// `at - d`, but not before 1970: nothing the proxy keeps is older, and both databases
/// take it (PostgreSQL's timestamps end at 4713 BC).
pub fn before(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| at.checked_sub(d))
        .map_or(OffsetDateTime::UNIX_EPOCH, |t| {
            t.max(OffsetDateTime::UNIX_EPOCH)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn adding_past_the_calendar_saturates_instead_of_panicking() {
        let far = datetime!(9999-12-31 23:59:59 +07:00);
        assert_eq!(
            after(far, Duration::from_secs(86_400)),
            PrimitiveDateTime::MAX.assume_utc()
        );
        assert_eq!(
            after(far, Duration::MAX),
            PrimitiveDateTime::MAX.assume_utc()
        );
        let early = datetime!(1970-01-01 00:00:01 UTC);
        assert_eq!(
            before(early, Duration::from_secs(2)),
            OffsetDateTime::UNIX_EPOCH
        );
        assert_eq!(before(early, Duration::MAX), OffsetDateTime::UNIX_EPOCH);
        let now = datetime!(2026-11-24 08:00:00 UTC);
        assert_eq!(
            after(now, Duration::from_secs(60)),
            datetime!(2026-11-24 08:01:00 UTC)
        );
        assert_eq!(
            before(now, Duration::from_secs(60)),
            datetime!(2026-11-24 07:59:00 UTC)
        );
    }
}
