//! When a chat's digest is due: its local time of day in its own time zone, correct across
//! daylight-saving changes.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant of `time` on local date `date` in `tz`. A time skipped by a DST change is
/// moved forward to the first valid minute; a repeated time takes its first occurrence.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Spring forward: walk forward minute by minute (gaps are at most a few hours).
            let mut probe = naive;
            for _ in 0..(24 * 60) {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&naive)
        }
    }
}

/// The local date in `tz` at instant `now`.
pub fn local_date(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The next instant strictly after `after` at which the local time is `time`.
pub fn next_due(tz: Tz, time: NaiveTime, after: DateTime<Utc>) -> DateTime<Utc> {
    let today = local_date(tz, after);
    for offset in 0..3 {
        let date = today.checked_add_days(Days::new(offset)).unwrap_or(today);
        let at = local_instant(tz, date, time);
        if at > after {
            return at;
        }
    }
    after + chrono::Duration::days(1)
}

/// The local date whose digest is owed at `now`: today if today's time has passed, else
/// yesterday. A chat is owed a digest when it has no delivery for that date (or later).
pub fn owed_date(tz: Tz, time: NaiveTime, now: DateTime<Utc>) -> NaiveDate {
    let today = local_date(tz, now);
    if local_instant(tz, today, time) <= now {
        today
    } else {
        today.pred_opt().unwrap_or(today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn shanghai_eight_am() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let t = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        assert_eq!(
            next_due(tz, t, utc("2024-07-10T00:00:00Z")),
            utc("2024-07-10T00:00:00Z") + chrono::Duration::days(1)
        );
        assert_eq!(
            next_due(tz, t, utc("2024-07-09T23:59:00Z")),
            utc("2024-07-10T00:00:00Z")
        );
    }

    #[test]
    fn dst_changes_keep_local_time() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let t = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        // Before the March 2024 change 08:00 is 13:00Z, after it 12:00Z.
        assert_eq!(
            next_due(ny, t, utc("2024-03-09T14:00:00Z")),
            utc("2024-03-10T12:00:00Z")
        );
        assert_eq!(
            next_due(ny, t, utc("2024-03-08T14:00:00Z")),
            utc("2024-03-09T13:00:00Z")
        );
        // 02:30 does not exist on 2024-03-10: moved to 03:00 local (07:00Z).
        let skipped = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(
            next_due(ny, skipped, utc("2024-03-10T05:00:00Z")),
            utc("2024-03-10T07:00:00Z")
        );
        // 01:30 happens twice on 2024-11-03: the first one (05:30Z).
        let twice = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        assert_eq!(
            next_due(ny, twice, utc("2024-11-03T04:00:00Z")),
            utc("2024-11-03T05:30:00Z")
        );
    }

    #[test]
    fn owed_date_is_today_after_the_time() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let t = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        assert_eq!(
            owed_date(tz, t, utc("2024-07-10T07:00:00Z")).to_string(),
            "2024-07-10"
        );
        assert_eq!(
            owed_date(tz, t, utc("2024-07-10T05:00:00Z")).to_string(),
            "2024-07-09"
        );
    }
}
