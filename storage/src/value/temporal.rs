//! Text forms of the date and time types (ISO 8601), used for JSON output.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta};

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a valid date"),
};

/// `YYYY-MM-DD` for days since 1970-01-01.
pub fn format_date(days: i32) -> String {
    match EPOCH.checked_add_signed(TimeDelta::days(days as i64)) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => format!("date({days})"),
    }
}

/// `HH:MM:SS[.ffffff]` for microseconds since midnight.
pub fn format_time(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
    match NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, nanos) {
        Some(t) if (0..86_400).contains(&secs) => t.format("%H:%M:%S%.f").to_string(),
        _ => format!("time({micros})"),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` for microseconds since the epoch, no zone.
pub fn format_datetime(micros: i64) -> String {
    match DateTime::from_timestamp_micros(micros) {
        Some(t) => t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        None => format!("datetime({micros})"),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` for microseconds since the Unix epoch.
pub fn format_timestamp(micros: i64) -> String {
    match DateTime::from_timestamp_micros(micros) {
        Some(t) => t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
        None => format!("timestamp({micros})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(format_time(3_723_000_001), "01:02:03.000001");
        assert_eq!(format_timestamp(1_700_000_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_datetime(1_500_000), "1970-01-01T00:00:01.500");
    }
}
