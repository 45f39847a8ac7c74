//! Shop days: "today" and the last seven days as an Indonesian shop counts them (midnight in
//! PayDigital's zone, Asia/Jakarta), and the paid totals of each. Pure: the store sums by day
//! number, this names the days and fills the empty ones.

use time::{Date, OffsetDateTime, UtcOffset};

/// What was paid on one day (a day number: days since 1970-01-01 in the shop's zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayTotal {
    pub day: i64,
    pub count: u64,
    /// The sum of `total_amount`: what customers really paid.
    pub total: u64,
}

/// One day of the overview's chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    pub count: u64,
    pub total: u64,
}

const SECS_PER_DAY: i64 = 86_400;

/// The day number of `at` in `zone`.
pub fn day_number(at: OffsetDateTime, zone: UtcOffset) -> i64 {
    (at.unix_timestamp() + i64::from(zone.whole_seconds())).div_euclid(SECS_PER_DAY)
}

/// When day `day` starts (midnight in `zone`), as a moment.
pub fn start_of_day(day: i64, zone: UtcOffset) -> OffsetDateTime {
    let secs = day
        .saturating_mul(SECS_PER_DAY)
        .saturating_sub(i64::from(zone.whole_seconds()));
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// When today began in `zone`.
pub fn start_of_today(now: OffsetDateTime, zone: UtcOffset) -> OffsetDateTime {
    start_of_day(day_number(now, zone), zone)
}

/// The `days` days up to and including today, oldest first, with what `totals` says of each
/// (days nobody paid on are zero).
pub fn last_days(now: OffsetDateTime, zone: UtcOffset, days: i64, totals: &[DayTotal]) -> Vec<Day> {
    let today = day_number(now, zone);
    (0..days)
        .rev()
        .map(|back| {
            let day = today.saturating_sub(back);
            let found = totals.iter().find(|t| t.day == day);
            Day {
                date: start_of_day(day, zone).to_offset(zone).date(),
                count: found.map_or(0, |t| t.count),
                total: found.map_or(0, |t| t.total),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset};

    const JAKARTA: UtcOffset = offset!(+7);

    #[test]
    fn a_jakarta_day_begins_at_midnight_there_not_in_utc() {
        // 23:30 UTC on the 1st is 06:30 on the 2nd in Jakarta.
        let late = datetime!(2026-12-01 23:30 UTC);
        let start = start_of_today(late, JAKARTA);
        assert_eq!(start, datetime!(2026-12-02 00:00 +7));
        // 16:59 UTC is still the 1st there; 17:00 UTC is the 2nd.
        assert_eq!(
            day_number(datetime!(2026-12-01 16:59:59 UTC), JAKARTA) + 1,
            day_number(datetime!(2026-12-01 17:00 UTC), JAKARTA)
        );
    }

    #[test]
    fn the_week_has_seven_days_with_the_empty_ones_zero() {
        let now = datetime!(2026-12-02 10:00 +7);
        let today = day_number(now, JAKARTA);
        let totals = [
            DayTotal {
                day: today,
                count: 2,
                total: 25_779,
            },
            DayTotal {
                day: today - 6,
                count: 1,
                total: 1_001,
            },
            // Older than the week: not shown.
            DayTotal {
                day: today - 7,
                count: 9,
                total: 9_999,
            },
        ];
        let week = last_days(now, JAKARTA, 7, &totals);
        assert_eq!(week.len(), 7);
        assert_eq!(
            week[0],
            Day {
                date: date!(2026 - 11 - 26),
                count: 1,
                total: 1_001
            }
        );
        assert_eq!(
            week[6],
            Day {
                date: date!(2026 - 12 - 02),
                count: 2,
                total: 25_779
            }
        );
        assert!(week[1..6].iter().all(|d| d.count == 0 && d.total == 0));
    }
}
