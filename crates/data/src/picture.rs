//! Turning a user's picture of a digit (any size, colour or polarity) into
//! the 28×28 grey image, light ink on black, that MNIST models expect.

use std::path::Path;

use image::imageops::FilterType;
use image::{GrayImage, ImageReader, Limits, Luma};

use crate::error::{DataError, Result};
use crate::idx::{PIXELS, SIDE};

/// Files above this size are refused before decoding.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Decoded images above this many pixels a side are refused.
pub const MAX_SIDE: u32 = 8192;

fn bad(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Picture {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Reads an image file and prepares it like an MNIST digit.
pub fn load_picture(path: &Path) -> Result<[u8; PIXELS]> {
    let meta = std::fs::metadata(path).map_err(|source| DataError::from_io(path, source))?;
    if !meta.is_file() {
        return Err(bad(path, "not a regular file"));
    }
    if meta.len() == 0 {
        return Err(bad(path, "the file is empty"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(bad(
            path,
            format!(
                "{} bytes is over the {} MiB limit for a picture",
                meta.len(),
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_picture(&bytes).map_err(|reason| bad(path, reason))
}

/// Decodes image bytes (PNG, JPEG, GIF, BMP, TIFF, WebP) and prepares them;
/// the error is a reason, without the file name.
pub fn decode_picture(bytes: &[u8]) -> std::result::Result<[u8; PIXELS], String> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    if reader.format().is_none() {
        return Err("not an image in a known format (PNG, JPEG, GIF, BMP, TIFF, WebP)".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| format!("cannot decode: {e}"))?;
    // Composite any transparency over white: a transparent background is
    // paper, not ink.
    let rgba = image.to_rgba32f();
    let gray = GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let luma = 0.299 * r + 0.587 * g + 0.114 * b;
        let v = a * luma + (1.0 - a);
        Luma([(v.clamp(0.0, 1.0) * 255.0).round() as u8])
    });
    Ok(to_mnist(&gray))
}

/// MNIST's own preparation: ink light on black, the digit's bounding box
/// scaled to fit 20×20 keeping its aspect, then placed in a 28×28 field so
/// that its centre of mass sits at the centre.
pub fn to_mnist(gray: &GrayImage) -> [u8; PIXELS] {
    let (w, h) = gray.dimensions();
    let border = border_pixels(gray);
    let mut sorted = border.clone();
    sorted.sort_unstable();
    let background = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    // Light paper means dark ink: flip so that ink is bright.
    let invert = background > 127;
    let ink = |v: u8| -> u8 {
        let v = if invert { 255 - v } else { v };
        let bg = if invert { 255 - background } else { background };
        v.saturating_sub(bg)
    };
    let mut plane = GrayImage::from_fn(w, h, |x, y| Luma([ink(gray.get_pixel(x, y).0[0])]));
    let peak = plane.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    let mut out = [0u8; PIXELS];
    if peak == 0 {
        return out;
    }
    // Stretch contrast so the strongest stroke is full white, as in MNIST.
    for p in plane.pixels_mut() {
        p.0[0] = ((p.0[0] as u32 * 255) / peak as u32) as u8;
    }
    // Bounding box of clear ink (a quarter of the peak drops paper noise).
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in plane.enumerate_pixels() {
        if p.0[0] >= 64 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let crop = image::imageops::crop_imm(&plane, x0, y0, bw, bh).to_image();
    let scale = 20.0 / bw.max(bh) as f32;
    let (nw, nh) = (
        ((bw as f32 * scale).round() as u32).clamp(1, 20),
        ((bh as f32 * scale).round() as u32).clamp(1, 20),
    );
    let small = image::imageops::resize(&crop, nw, nh, FilterType::Triangle);
    // Centre of mass of the scaled digit.
    let (mut mass, mut cx, mut cy) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y, p) in small.enumerate_pixels() {
        let m = p.0[0] as f32;
        mass += m;
        cx += m * x as f32;
        cy += m * y as f32;
    }
    let (cx, cy) = if mass > 0.0 {
        (cx / mass, cy / mass)
    } else {
        (nw as f32 / 2.0, nh as f32 / 2.0)
    };
    let max_x = (SIDE as u32 - nw) as i64;
    let max_y = (SIDE as u32 - nh) as i64;
    let ox = ((SIDE as f32 / 2.0 - cx).round() as i64).clamp(0, max_x) as usize;
    let oy = ((SIDE as f32 / 2.0 - cy).round() as i64).clamp(0, max_y) as usize;
    for (x, y, p) in small.enumerate_pixels() {
        out[(oy + y as usize) * SIDE + ox + x as usize] = p.0[0];
    }
    out
}

fn border_pixels(gray: &GrayImage) -> Vec<u8> {
    let (w, h) = gray.dimensions();
    let mut v = Vec::with_capacity(2 * (w + h) as usize);
    for x in 0..w {
        v.push(gray.get_pixel(x, 0).0[0]);
        v.push(gray.get_pixel(x, h - 1).0[0]);
    }
    for y in 0..h {
        v.push(gray.get_pixel(0, y).0[0]);
        v.push(gray.get_pixel(w - 1, y).0[0]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white page with a black vertical bar: a "1".
    fn page(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let bar = x >= w / 2 - w / 20 && x <= w / 2 + w / 20 && y > h / 5 && y < 4 * h / 5;
            Luma([if bar { 10 } else { 245 }])
        })
    }

    #[test]
    fn dark_on_light_is_inverted_centred_and_fitted() {
        let out = to_mnist(&page(300, 400));
        let ink: Vec<usize> = (0..PIXELS).filter(|&i| out[i] > 128).collect();
        assert!(!ink.is_empty());
        let rows: Vec<usize> = ink.iter().map(|i| i / SIDE).collect();
        let cols: Vec<usize> = ink.iter().map(|i| i % SIDE).collect();
        // 20 pixels tall, centred.
        assert_eq!(
            rows.iter().max().unwrap() - rows.iter().min().unwrap() + 1,
            20
        );
        let mean_col = cols.iter().sum::<usize>() as f32 / cols.len() as f32;
        assert!((mean_col - 14.0).abs() <= 1.0, "{mean_col}");
        // Corners are background.
        assert_eq!(out[0], 0);
        assert_eq!(out[PIXELS - 1], 0);
    }

    #[test]
    fn light_on_dark_keeps_polarity() {
        let mut img = page(56, 56);
        for p in img.pixels_mut() {
            p.0[0] = 255 - p.0[0];
        }
        assert_eq!(to_mnist(&img), to_mnist(&page(56, 56)));
    }

    #[test]
    fn blank_and_tiny_images_do_not_panic() {
        assert_eq!(to_mnist(&GrayImage::new(1, 1)), [0; PIXELS]);
        let one = GrayImage::from_pixel(1, 1, Luma([255]));
        let _ = to_mnist(&one);
        let _ = to_mnist(&GrayImage::from_fn(3, 1, |x, _| Luma([(x * 100) as u8])));
    }

    #[test]
    fn garbage_bytes_are_not_an_image() {
        let err = decode_picture(b"hello, not a picture").unwrap_err();
        assert!(err.contains("not an image"), "{err}");
        assert!(decode_picture(&[0x89, b'P', b'N', b'G', 0, 0]).is_err());
    }
}
