//! Summaries of a loaded split: what the `data` command prints.

use crate::idx::{CLASSES, SIDE};
use crate::mnist::Digits;

/// Count, class histogram and pixel statistics (after scaling to [0, 1]).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub histogram: [usize; CLASSES],
    pub mean: f64,
    pub std: f64,
}

pub fn summarize(digits: &Digits) -> Summary {
    let mut histogram = [0usize; CLASSES];
    for &l in digits.labels() {
        histogram[l as usize] += 1;
    }
    // Integer sums are exact and fast: at most 47M × 255² fits in u64.
    let (mut sum, mut sum_sq) = (0u64, 0u64);
    for &p in digits.pixels() {
        sum += p as u64;
        sum_sq += (p as u64) * (p as u64);
    }
    let n = digits.pixels().len().max(1) as f64;
    let mean = sum as f64 / n / 255.0;
    let var = (sum_sq as f64 / n / (255.0 * 255.0) - mean * mean).max(0.0);
    Summary {
        count: digits.len(),
        histogram,
        mean,
        std: var.sqrt(),
    }
}

/// Draws image `index` with one character a pixel, darker glyphs for brighter ink.
pub fn ascii_art(digits: &Digits, index: usize) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let mut out = String::with_capacity(SIDE * (SIDE + 1));
    for row in digits.image(index).chunks(SIDE) {
        for &p in row {
            out.push(RAMP[p as usize * (RAMP.len() - 1) / 255] as char);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::PIXELS;

    #[test]
    fn summary_of_two_images() {
        let mut pixels = vec![0u8; 2 * PIXELS];
        pixels[..PIXELS].fill(255);
        let digits = Digits::new(pixels, vec![3, 3]).unwrap();
        let s = summarize(&digits);
        assert_eq!(s.count, 2);
        assert_eq!(s.histogram[3], 2);
        assert!((s.mean - 0.5).abs() < 1e-12);
        assert!((s.std - 0.5).abs() < 1e-12);
        let art = ascii_art(&digits, 0);
        assert_eq!(art.lines().count(), 28);
        assert!(art.lines().all(|l| l == "@".repeat(28)));
    }
}
