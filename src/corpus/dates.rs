//! Dates as scrapers write them: `2024-07-10`, `2024-07-10T17:45:49.409550`, `2024/3/22`,
//! `2024年5月6日`, `2024.05.06`, `20240506`.

use chrono::NaiveDate;

/// Parses the first date found at the start of `text` (after optional quotes and spaces).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'');
    let digits_only: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits_only.len() == 8 {
        let (y, md) = digits_only.split_at(4);
        let (m, d) = md.split_at(2);
        return NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    }
    let mut numbers = [0u32; 3];
    let mut found = 0;
    let mut chars = text.chars().peekable();
    while found < 3 {
        let mut value: Option<u32> = None;
        while let Some(c) = chars.peek().copied() {
            let Some(d) = c.to_digit(10) else { break };
            value = Some(value.unwrap_or(0).saturating_mul(10).saturating_add(d));
            chars.next();
        }
        numbers[found] = value?;
        found += 1;
        if found < 3 {
            // Exactly one separator between the parts.
            match chars.next() {
                Some('-' | '/' | '.' | '年' | '月') => {}
                _ => return None,
            }
        }
    }
    let [y, m, d] = numbers;
    if !(1900..=2999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// A date as the sortable integer `YYYYMMDD` stored in the index (0 = unknown).
pub fn date_key(date: Option<NaiveDate>) -> i64 {
    use chrono::Datelike;
    date.map_or(0, |d| {
        i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
    })
}

/// Inverse of [`date_key`].
pub fn from_date_key(key: i64) -> Option<NaiveDate> {
    if key <= 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(
        (key / 10_000) as i32,
        (key / 100 % 100) as u32,
        (key % 100) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn formats_seen_in_scrapes() {
        assert_eq!(parse_date("2024-07-10"), ymd(2024, 7, 10));
        assert_eq!(parse_date("2024-07-10T17:45:49.409550"), ymd(2024, 7, 10));
        assert_eq!(parse_date("2024/3/22"), ymd(2024, 3, 22));
        assert_eq!(parse_date("2024年5月6日"), ymd(2024, 5, 6));
        assert_eq!(parse_date("\"2024.05.06\""), ymd(2024, 5, 6));
        assert_eq!(parse_date("20240506"), ymd(2024, 5, 6));
    }

    #[test]
    fn nonsense_is_none() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "99999999999999999999-1-1",
            "12-05-2024",
            "2024-",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn date_keys_round_trip() {
        let d = ymd(2024, 7, 10);
        assert_eq!(date_key(d), 20240710);
        assert_eq!(from_date_key(20240710), d);
        assert_eq!(from_date_key(0), None);
    }
}
