//! The downloads-per-day chart: an inline SVG drawn on the server (no script, prints fine).

/// One bar, in SVG user units (the view box is `WIDTH` × `HEIGHT`).
#[derive(Debug, Clone)]
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// `2026-11-25: 42 downloads`, shown on hover.
    pub title: String,
}

pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 120;

/// Bars for `(day, count)` oldest first; the tallest bar fills the height.
pub fn bars(days: &[(String, i64)]) -> Vec<Bar> {
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let slot = f64::from(WIDTH) / days.len().max(1) as f64;
    days.iter()
        .enumerate()
        .map(|(i, (day, n))| {
            let h = (*n as f64 / max) * f64::from(HEIGHT - 2);
            let h = if *n > 0 { h.max(1.0) } else { 0.0 };
            Bar {
                x: format!("{:.1}", i as f64 * slot + slot * 0.1),
                y: format!("{:.1}", f64::from(HEIGHT) - h),
                width: format!("{:.1}", slot * 0.8),
                height: format!("{h:.1}"),
                title: format!("{day}: {n} download{}", if *n == 1 { "" } else { "s" }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallest_bar_fills_the_height_and_zero_days_are_empty() {
        let b = bars(&[("a".into(), 0), ("b".into(), 5), ("c".into(), 10)]);
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].height, "0.0");
        assert_eq!(b[2].height, format!("{:.1}", f64::from(HEIGHT - 2)));
        assert_eq!(b[1].title, "b: 5 downloads");
    }
}
