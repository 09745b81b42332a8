//! How the page writes numbers and picks colours.

/// `43.5%`, or an en dash for no rate.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "\u{2013}".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// `43%`: for the heatmap's cells, where space is short.
pub fn percent_whole(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// `[35.1, 51.9]`, or nothing without an interval.
pub fn interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or_else(String::new, |(lo, hi)| {
        format!("[{:.1}, {:.1}]", lo * 100.0, hi * 100.0)
    })
}

/// Models' colours: Okabe and Ito's palette, told apart with any colour
/// vision, in an order whose neighbours contrast.
const MODEL_COLOURS: &[&str] = &[
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442",
];

pub fn model_colour(index: usize) -> &'static str {
    MODEL_COLOURS[index % MODEL_COLOURS.len()]
}

/// The rate scale's stops, light to dark (ColorBrewer's OrRd): one hue
/// that darkens with the rate, readable in grey.
const RATE_STOPS: &[(u8, u8, u8)] = &[
    (0xff, 0xf7, 0xec),
    (0xfd, 0xd4, 0x9e),
    (0xfc, 0x8d, 0x59),
    (0xd7, 0x30, 0x1f),
    (0x7f, 0x00, 0x00),
];

fn rate_rgb(rate: f64) -> (u8, u8, u8) {
    let t = rate.clamp(0.0, 1.0) * (RATE_STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(RATE_STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (RATE_STOPS[i], RATE_STOPS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The fill for `rate` on the sequential scale.
pub fn rate_colour(rate: f64) -> String {
    let (r, g, b) = rate_rgb(rate);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Text that stays readable on `rate_colour(rate)`: dark on the light
/// end, white on the dark (WCAG relative luminance).
pub fn text_on_rate(rate: f64) -> &'static str {
    let (r, g, b) = rate_rgb(rate);
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    // Where white and near-black give the same contrast.
    if luminance > 0.18 {
        "#1b1b1b"
    } else {
        "#ffffff"
    }
}

/// The scale's stops as CSS gradient stops, for its legend.
pub fn rate_gradient_stops() -> Vec<(f64, String)> {
    let last = (RATE_STOPS.len() - 1) as f64;
    (0..RATE_STOPS.len())
        .map(|i| {
            let at = i as f64 / last;
            (at, rate_colour(at))
        })
        .collect()
}

/// `text` cut to `max` characters, with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('\u{2026}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_runs_light_to_dark_with_readable_text() {
        assert_eq!(rate_colour(0.0), "#fff7ec");
        assert_eq!(rate_colour(1.0), "#7f0000");
        assert_eq!(rate_colour(2.0), "#7f0000");
        assert_eq!(text_on_rate(0.0), "#1b1b1b");
        assert_eq!(text_on_rate(1.0), "#ffffff");
    }

    #[test]
    fn numbers_read_as_percentages() {
        assert_eq!(percent(Some(0.4351)), "43.5%");
        assert_eq!(percent(None), "\u{2013}");
        assert_eq!(interval(Some((0.1, 0.25))), "[10.0, 25.0]");
        assert_eq!(shorten("abcdef", 4), "abc\u{2026}");
    }
}
