//! Human-readable numbers: latencies, sizes, clock times, rates.
//!
//! Each function takes a value in the unit its name says and returns a short string with the
//! unit attached, sized for a table cell.

/// A latency with a unit chosen for three significant digits: `850 µs`, `12.3 ms`, `1.25 s`.
pub fn format_latency(latency_micros: u64) -> String {
    if latency_micros < 1_000 {
        format!("{latency_micros} µs")
    } else if latency_micros < 1_000_000 {
        format!("{} ms", three_digits(latency_micros as f64 / 1_000.0))
    } else if latency_micros < 60_000_000 {
        format!("{} s", three_digits(latency_micros as f64 / 1_000_000.0))
    } else {
        let total_seconds = latency_micros / 1_000_000;
        format!("{}m {:02}s", total_seconds / 60, total_seconds % 60)
    }
}

/// A latency in fractional milliseconds (for chart axes): `0.85`, `12.3`.
pub fn latency_millis(latency_micros: u64) -> f64 {
    latency_micros as f64 / 1_000.0
}

/// A size in bytes with a decimal unit: `512 B`, `1.20 kB`, `3.40 MB`.
pub fn format_size(size_bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if size_bytes < 1_000 {
        return format!("{size_bytes} B");
    }
    let mut value = size_bytes as f64 / 1_000.0;
    let mut unit = 0;
    while value >= 1_000.0 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    format!("{} {}", three_digits(value), UNITS[unit])
}

/// The time of day of `time_micros` (microseconds since the Unix epoch) shifted by
/// `utc_offset_minutes`, as `HH:MM:SS.mmm`. The core has no clock or time zone: the caller
/// passes the offset it wants shown (0 for UTC).
pub fn format_clock(time_micros: u64, utc_offset_minutes: i32) -> String {
    let shifted_micros = time_micros as i128 + i128::from(utc_offset_minutes) * 60_000_000;
    let day_micros = shifted_micros.rem_euclid(86_400_000_000);
    let millis = (day_micros / 1_000) % 1_000;
    let seconds = (day_micros / 1_000_000) % 60;
    let minutes = (day_micros / 60_000_000) % 60;
    let hours = day_micros / 3_600_000_000;
    format!("{hours:02}:{minutes:02}:{seconds:02}.{millis:03}")
}

/// An offset between two moments, `+1.250 s` style, for timings relative to a call's start.
pub fn format_offset(offset_micros: i64) -> String {
    let sign = if offset_micros < 0 { "-" } else { "+" };
    format!("{sign}{}", format_latency(offset_micros.unsigned_abs()))
}

/// A share in [0, 1] as a percentage with one decimal: `12.5%`.
pub fn format_rate(rate: f64) -> String {
    if !rate.is_finite() {
        return "–".to_owned();
    }
    format!("{:.1}%", rate * 100.0)
}

/// Keeps three significant digits for values in [1, 1000).
fn three_digits(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_pick_their_unit() {
        for (micros, expected) in [
            (0, "0 µs"),
            (850, "850 µs"),
            (1_000, "1.00 ms"),
            (12_345, "12.3 ms"),
            (999_499, "999 ms"),
            (1_250_000, "1.25 s"),
            (61_000_000, "1m 01s"),
        ] {
            assert_eq!(format_latency(micros), expected, "{micros} µs");
        }
    }

    #[test]
    fn sizes_use_decimal_units() {
        for (bytes, expected) in [
            (0, "0 B"),
            (999, "999 B"),
            (1_200, "1.20 kB"),
            (3_400_000, "3.40 MB"),
            (5_000_000_000_000_000, "5000 TB"),
        ] {
            assert_eq!(format_size(bytes), expected, "{bytes} bytes");
        }
    }

    #[test]
    fn clock_times_wrap_days_and_apply_the_offset() {
        // 2023-11-14T22:13:20.123456Z
        let time_micros = 1_700_000_000_123_456;
        assert_eq!(format_clock(time_micros, 0), "22:13:20.123");
        assert_eq!(format_clock(time_micros, 120), "00:13:20.123");
        assert_eq!(format_clock(time_micros, -60), "21:13:20.123");
        assert_eq!(format_clock(0, -1), "23:59:00.000");
    }

    #[test]
    fn offsets_and_rates() {
        assert_eq!(format_offset(-2_500), "-2.50 ms");
        assert_eq!(format_offset(40), "+40 µs");
        assert_eq!(format_rate(0.125), "12.5%");
        assert_eq!(format_rate(f64::NAN), "–");
    }
}
