//! Data augmentation: random shifts of training images.
//!
//! A digit moved a pixel or two is still the same digit, so shifting each
//! training image by a fresh random offset every time it is drawn shows the
//! net many more images than the dataset holds, and teaches it not to rely
//! on where a digit sits. The gain needs training time: the lecture's deep
//! CNN shifted by up to 2 pixels for 6 epochs scored no better than without.

use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::idx::{PIXELS, SIDE};

/// The largest shift allowed: half the image.
pub const MAX_SHIFT: usize = SIDE / 2;

/// `pixels` moved `dx` columns right and `dy` rows down (negative: left, up);
/// what comes in at the edges is background (0).
pub fn shift(pixels: &[u8; PIXELS], dx: isize, dy: isize) -> [u8; PIXELS] {
    let mut out = [0u8; PIXELS];
    let side = SIDE as isize;
    for row in 0..side {
        let from_row = row - dy;
        if !(0..side).contains(&from_row) {
            continue;
        }
        // Columns of `row` whose source column lies inside the image.
        let first = dx.max(0);
        let last = (side + dx).min(side);
        if first >= last {
            continue;
        }
        let to = (row * side + first) as usize..(row * side + last) as usize;
        let start = (from_row * side + first - dx) as usize;
        out[to.clone()].copy_from_slice(&pixels[start..start + to.len()]);
    }
    out
}

/// Shifts images by a random offset of up to `max` pixels along each axis,
/// drawn uniformly from a seeded generator.
///
/// Clones share the generator, so a data loader's copies draw one sequence;
/// with one loader thread the offsets are the same on every run of a seed.
#[derive(Clone, Debug)]
pub struct RandomShift {
    max: isize,
    rng: Arc<Mutex<StdRng>>,
}

impl RandomShift {
    /// `max` is clamped to [`MAX_SHIFT`]; configs are checked before this.
    pub fn new(max: usize, seed: u64) -> Self {
        Self {
            max: max.min(MAX_SHIFT) as isize,
            rng: Arc::new(Mutex::new(StdRng::seed_from_u64(seed))),
        }
    }

    /// The next random offset `(dx, dy)`, each in `-max..=max`.
    pub fn offset(&self) -> (isize, isize) {
        // A poisoned lock only means another loader thread panicked while
        // drawing; the generator itself is still usable.
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let max = self.max as i32;
        let dx = rng.random_range(-max..=max);
        let dy = rng.random_range(-max..=max);
        (dx as isize, dy as isize)
    }

    /// `pixels` moved by the next random offset.
    pub fn apply(&self, pixels: &[u8; PIXELS]) -> [u8; PIXELS] {
        let (dx, dy) = self.offset();
        shift(pixels, dx, dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_dot(row: usize, col: usize) -> [u8; PIXELS] {
        let mut p = [0u8; PIXELS];
        p[row * SIDE + col] = 255;
        p
    }

    #[test]
    fn a_shift_moves_every_pixel_by_the_offset() {
        let moved = shift(&one_dot(10, 12), 3, -2);
        assert_eq!(moved, one_dot(8, 15));
        let back = shift(&moved, -3, 2);
        assert_eq!(back, one_dot(10, 12));
        let mut ramp = [0u8; PIXELS];
        for (i, p) in ramp.iter_mut().enumerate() {
            *p = (i % 251) as u8;
        }
        assert_eq!(shift(&ramp, 0, 0), ramp);
    }

    #[test]
    fn what_leaves_the_image_is_lost_and_the_edges_fill_with_background() {
        assert_eq!(shift(&one_dot(0, 27), 1, 0), [0u8; PIXELS]);
        assert_eq!(shift(&one_dot(27, 0), 0, 1), [0u8; PIXELS]);
        let full = [200u8; PIXELS];
        let moved = shift(&full, -2, 1);
        for row in 0..SIDE {
            for col in 0..SIDE {
                let inside = row >= 1 && col < SIDE - 2;
                assert_eq!(
                    moved[row * SIDE + col],
                    if inside { 200 } else { 0 },
                    "({row}, {col})"
                );
            }
        }
        assert_eq!(shift(&full, 28, 0), [0u8; PIXELS]);
        assert_eq!(shift(&full, 0, -30), [0u8; PIXELS]);
    }

    #[test]
    fn random_offsets_stay_in_range_reach_every_value_and_repeat_per_seed() {
        let a = RandomShift::new(2, 7);
        let offsets: Vec<_> = (0..500).map(|_| a.offset()).collect();
        for d in -2..=2 {
            assert!(offsets.iter().any(|o| o.0 == d), "dx {d} never drawn");
            assert!(offsets.iter().any(|o| o.1 == d), "dy {d} never drawn");
        }
        assert!(offsets.iter().all(|o| o.0.abs() <= 2 && o.1.abs() <= 2));
        let b = RandomShift::new(2, 7);
        let again: Vec<_> = (0..500).map(|_| b.offset()).collect();
        assert_eq!(offsets, again);
        let other = RandomShift::new(2, 8);
        let different: Vec<_> = (0..500).map(|_| other.offset()).collect();
        assert_ne!(offsets, different);
        // A clone draws from the same sequence, not a copy of it.
        let c = RandomShift::new(2, 7);
        let d = c.clone();
        let mixed: Vec<_> = (0..250).flat_map(|_| [c.offset(), d.offset()]).collect();
        assert_eq!(mixed, offsets);
    }

    #[test]
    fn a_shift_of_zero_changes_nothing() {
        let s = RandomShift::new(0, 1);
        let image = one_dot(5, 5);
        for _ in 0..10 {
            assert_eq!(s.apply(&image), image);
        }
    }
}
