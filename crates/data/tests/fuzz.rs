//! Property-based fuzzing of everything that reads user files: the IDX
//! parsers, the gzip reader and the picture decoder. Each property feeds
//! arbitrary bytes and mutated copies of the seeds in `fuzz-seeds/`, and
//! asks only that the answer is a value or an error, never a panic.
//!
//! CI runs 256 cases per property. For a long run, give a time budget:
//!
//!     DLSUITE_FUZZ_SECONDS=600 cargo test --release --workspace --test fuzz -- --nocapture --test-threads 1

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dlsuite_data::idx::{parse_images, parse_labels, read_maybe_gzipped};
use dlsuite_data::picture::{decode_picture, load_picture};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The seed pictures of a handwritten 7, in every format and depth covered.
const SEVENS: [&str; 5] = [
    "seven-rgba.png",
    "seven.jpg",
    "seven-cmyk.jpg",
    "seven-gray16.png",
    "seven.gif",
];

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-seeds")
}

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(seeds().join(name)).unwrap()
}

/// Runs `property` over `strategy`: 256 cases, or batches of 4096 until
/// `DLSUITE_FUZZ_SECONDS` have passed. A panic fails with the shrunk input.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let budget = std::env::var("DLSUITE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let started = Instant::now();
    let mut cases = 0u64;
    loop {
        let batch = if budget.is_some() { 4096 } else { 256 };
        let mut runner = TestRunner::new(Config {
            cases: batch,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |value| {
                property(value);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        cases += batch as u64;
        if budget.is_none_or(|b| started.elapsed() >= b) {
            break;
        }
    }
    println!(
        "{name}: {cases} cases, no panic, {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// A seed with some bytes overwritten, some inserted or removed, and
/// possibly cut short: the shape of a corrupt download or disk.
fn mutated(original: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = original.len();
    (
        prop::collection::vec((0..len.max(1), any::<u8>()), 0..12),
        prop::option::of(0..len.max(1)),
        prop::option::of((0..len.max(1), prop::collection::vec(any::<u8>(), 1..64))),
    )
        .prop_map(move |(flips, cut, insert)| {
            let mut bytes = original.clone();
            for (i, b) in flips {
                if let Some(slot) = bytes.get_mut(i) {
                    *slot = b;
                }
            }
            if let Some((at, extra)) = insert {
                let at = at.min(bytes.len());
                bytes.splice(at..at, extra);
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            bytes
        })
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..2048)
}

#[test]
fn idx_parsers_never_panic() {
    let path = Path::new("fuzz.idx");
    let check = |bytes: Vec<u8>| {
        let _ = parse_labels(path, &bytes);
        let _ = parse_images(path, &bytes);
    };
    fuzz("idx: arbitrary bytes", any_bytes(), check);
    fuzz("idx: mutated labels", mutated(seed("labels.idx")), check);
    fuzz("idx: mutated images", mutated(seed("images.idx")), check);
}

#[test]
fn gzip_reader_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.gz");
    let check = |bytes: Vec<u8>| {
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(inflated) = read_maybe_gzipped(&path) {
            let _ = parse_images(&path, &inflated);
        }
    };
    fuzz(
        "gzip: mutated images.idx.gz",
        mutated(seed("images.idx.gz")),
        check,
    );
}

#[test]
fn picture_decoder_never_panics() {
    let check = |bytes: Vec<u8>| {
        let _ = decode_picture(&bytes);
    };
    fuzz("picture: arbitrary bytes", any_bytes(), check);
    for name in SEVENS.iter().chain(&["one-pixel.png"]) {
        fuzz(
            &format!("picture: mutated {name}"),
            mutated(seed(name)),
            check,
        );
    }
}

#[test]
fn every_seed_picture_is_read_as_a_seven_or_refused_clearly() {
    for name in SEVENS {
        let digit = load_picture(&seeds().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ink = digit.iter().filter(|&&v| v > 128).count();
        assert!((40..400).contains(&ink), "{name}: {ink} inked pixels");
    }
    // One pixel has no digit in it, but is still a valid (blank) picture.
    let one = load_picture(&seeds().join("one-pixel.png")).unwrap();
    assert_eq!(one.len(), 784);
}

#[test]
fn seeds_are_valid_to_begin_with() {
    let labels = parse_labels(Path::new("labels.idx"), &seed("labels.idx")).unwrap();
    assert_eq!(labels.len(), 30);
    let images = parse_images(Path::new("images.idx"), &seed("images.idx")).unwrap();
    assert_eq!(images.len(), 3 * 784);
    let gz = read_maybe_gzipped(&seeds().join("images.idx.gz")).unwrap();
    assert_eq!(gz, seed("images.idx"));
}
