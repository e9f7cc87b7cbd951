//! The IDX format of the MNIST files: a big-endian magic number, one `u32`
//! per dimension, then the `u8` payload. Files may be gzipped or not.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{DataError, Result};

/// Side of an MNIST image, in pixels.
pub const SIDE: usize = 28;
/// Pixels in one MNIST image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes in MNIST and Fashion-MNIST.
pub const CLASSES: usize = 10;

const MAGIC_LABELS: u32 = 0x0000_0801;
const MAGIC_IMAGES: u32 = 0x0000_0803;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The largest inflated file accepted: MNIST's training images are 47 MB;
/// a gzip bomb stops here instead of filling memory.
pub const MAX_INFLATED: u64 = 1 << 30;

/// Reads a file whole, inflating it when it starts with the gzip magic bytes.
pub fn read_maybe_gzipped(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|source| DataError::from_io(path, source))?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    if let Some(inflated) = inflate_in_one_call(&raw) {
        return Ok(inflated);
    }
    // MNIST compresses about 5:1; reserving that avoids repeated regrowth.
    let mut out = Vec::with_capacity((raw.len() * 5).min(MAX_INFLATED as usize));
    GzDecoder::new(raw.as_slice())
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            path: path.to_path_buf(),
            source,
        })?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(DataError::Gzip {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "inflates to more than {} MiB, far beyond any IDX file of 28×28 images",
                    MAX_INFLATED >> 20
                ),
            ),
        });
    }
    Ok(out)
}

/// Inflates a gzip file with libdeflate into a buffer of the size its
/// trailer gives, which is faster than streaming through zlib. `None` when
/// the size is
/// implausible or libdeflate refuses the data (a corrupt or multi-member
/// file): the streaming reader then reads it, or names what is wrong.
fn inflate_in_one_call(raw: &[u8]) -> Option<Vec<u8>> {
    /// Deflate's best ratio; a trailer claiming more is corrupt.
    const MAX_RATIO: u64 = 1032;
    let trailer: [u8; 4] = raw.get(raw.len().checked_sub(4)?..)?.try_into().ok()?;
    let size = u64::from(u32::from_le_bytes(trailer));
    if size > MAX_INFLATED || size > raw.len() as u64 * MAX_RATIO {
        return None;
    }
    let mut out = vec![0; size as usize];
    let written = libdeflater::Decompressor::new()
        .gzip_decompress(raw, &mut out)
        .ok()?;
    (written == out.len()).then_some(out)
}

/// Reads an IDX3 image file, gzipped or not, and returns its pixels as
/// [`parse_images`] does, without copying them out of the file's buffer.
pub fn read_images(path: &Path) -> Result<Vec<u8>> {
    read_payload(path, images_header)
}

/// Reads an IDX1 label file, gzipped or not, as [`parse_labels`] does.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    read_payload(path, labels_header)
}

/// The file's bytes after the header that `check` accepts and measures.
fn read_payload(path: &Path, check: fn(&Path, &[u8]) -> Result<usize>) -> Result<Vec<u8>> {
    let mut bytes = read_maybe_gzipped(path)?;
    let header_len = check(path, &bytes)?;
    bytes.drain(..header_len);
    Ok(bytes)
}

/// Checks the magic number and dimension count, and returns the dimensions
/// and the payload that follows the header.
fn parse_header<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: u32,
    kind: &'static str,
    check_dims: impl Fn(&[u32]) -> Result<()>,
) -> Result<(Vec<u32>, &'a [u8])> {
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let truncated = |expected: usize| DataError::Truncated {
        path: path.to_path_buf(),
        expected: expected as u64,
        found: bytes.len() as u64,
    };
    if bytes.len() < 4 {
        return Err(truncated(header_len));
    }
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: magic,
            kind,
        });
    }
    if bytes.len() < header_len {
        return Err(truncated(header_len));
    }
    let dims: Vec<u32> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    // Geometry first: a wrong size explains a length mismatch better.
    check_dims(&dims)?;
    // Saturating: a corrupt header may multiply out past u64.
    let payload_len = dims
        .iter()
        .fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
    let expected = payload_len.saturating_add(header_len as u64);
    let actual = bytes.len() as u64;
    if actual < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected,
            found: actual,
        });
    }
    if actual > expected {
        return Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            extra: actual - expected,
        });
    }
    Ok((dims, &bytes[header_len..]))
}

/// Parses an IDX1 label file; every label must be a digit class 0–9.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let header_len = labels_header(path, bytes)?;
    Ok(bytes[header_len..].to_vec())
}

/// Parses an IDX3 image file of 28×28 images; returns the pixels, row-major,
/// image after image.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let header_len = images_header(path, bytes)?;
    Ok(bytes[header_len..].to_vec())
}

/// Checks a label file and returns its header's length.
fn labels_header(path: &Path, bytes: &[u8]) -> Result<usize> {
    let (_, payload) = parse_header(path, bytes, MAGIC_LABELS, "label", |_| Ok(()))?;
    if let Some(index) = payload.iter().position(|&l| l as usize >= CLASSES) {
        return Err(DataError::BadLabel {
            path: path.to_path_buf(),
            index,
            label: payload[index],
        });
    }
    Ok(bytes.len() - payload.len())
}

/// Checks an image file and returns its header's length.
fn images_header(path: &Path, bytes: &[u8]) -> Result<usize> {
    let (_, payload) = parse_header(path, bytes, MAGIC_IMAGES, "image", |dims| {
        if dims[1] as usize != SIDE || dims[2] as usize != SIDE {
            return Err(DataError::WrongImageSize {
                path: path.to_path_buf(),
                rows: dims[1],
                cols: dims[2],
            });
        }
        Ok(())
    })?;
    Ok(bytes.len() - payload.len())
}

/// Encodes images and labels as IDX files (uncompressed); the inverse of the
/// parsers, used to cut fixtures and by tests.
pub fn encode_images(images: &[u8]) -> Vec<u8> {
    let count = (images.len() / PIXELS) as u32;
    let mut out = Vec::with_capacity(16 + images.len());
    for word in [MAGIC_IMAGES, count, SIDE as u32, SIDE as u32] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(images);
    out
}

/// See [`encode_images`].
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    for word in [MAGIC_LABELS, labels.len() as u32] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x")
    }

    #[test]
    fn roundtrip() {
        let images: Vec<u8> = (0..2 * PIXELS).map(|i| (i % 256) as u8).collect();
        let labels = vec![3, 9];
        assert_eq!(parse_images(p(), &encode_images(&images)).unwrap(), images);
        assert_eq!(parse_labels(p(), &encode_labels(&labels)).unwrap(), labels);
    }

    #[test]
    fn empty_file_is_truncated() {
        assert!(matches!(
            parse_labels(p(), &[]),
            Err(DataError::Truncated { .. })
        ));
    }

    #[test]
    fn header_only_half_present_is_truncated() {
        let bytes = &encode_images(&[0; PIXELS])[..10];
        assert!(matches!(
            parse_images(p(), bytes),
            Err(DataError::Truncated { expected: 16, .. })
        ));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = encode_labels(&[1, 2]);
        bytes.push(0);
        assert!(matches!(
            parse_labels(p(), &bytes),
            Err(DataError::TrailingBytes { extra: 1, .. })
        ));
    }

    #[test]
    fn images_file_given_as_labels_is_bad_magic() {
        let err = parse_labels(p(), &encode_images(&[0; PIXELS])).unwrap_err();
        assert!(
            err.to_string().contains("bad magic number 0x00000803"),
            "{err}"
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_inflates_in_one_call_unless_its_trailer_lies() {
        let images: Vec<u8> = (0..3 * PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let file = encode_images(&images);
        let mut gz = gzip(&file);
        assert_eq!(inflate_in_one_call(&gz), Some(file.clone()));
        // The size in the trailer, one byte short: libdeflate refuses it,
        // and so does the streaming reader, which says why.
        let at = gz.len() - 4;
        gz[at] -= 1;
        assert_eq!(inflate_in_one_call(&gz), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("images.gz");
        std::fs::write(&path, &gz).unwrap();
        let err = read_maybe_gzipped(&path).unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
        // Intact, the file reads back as it was written, header stripped.
        std::fs::write(&path, gzip(&file)).unwrap();
        assert_eq!(read_images(&path).unwrap(), images);
    }

    #[test]
    fn huge_dimensions_do_not_overflow() {
        let mut bytes = Vec::new();
        for w in [MAGIC_IMAGES, u32::MAX, u32::MAX, u32::MAX] {
            bytes.extend_from_slice(&w.to_be_bytes());
        }
        assert!(parse_images(p(), &bytes).is_err());
    }
}
