//! A melody as sound and as a picture: a WAV file of sine tones (through
//! `hound`) and a piano roll.

use std::path::{Path, PathBuf};

use anyhow::Context;
use dlsuite_plots::heat_table;

/// Samples per second of the WAV file.
const RATE: u32 = 22_050;
/// Each note's length, in seconds.
const NOTE_SECONDS: f32 = 0.3;

/// The frequency of MIDI note `n` (69 is the A at 440 Hz).
fn frequency(note: u8) -> f32 {
    440.0 * 2f32.powf((note as f32 - 69.0) / 12.0)
}

/// Writes `melody.wav` and `piano-roll.png` for `notes`.
pub fn write_melody(dir: &Path, name: &str, notes: &[u8]) -> anyhow::Result<Vec<PathBuf>> {
    anyhow::ensure!(!notes.is_empty(), "{name}: the model wrote no notes");
    let wav = dir.join("melody.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = || format!("{}: cannot write", wav.display());
    let mut writer = hound::WavWriter::create(&wav, spec).with_context(fail)?;
    let per_note = (RATE as f32 * NOTE_SECONDS) as usize;
    for &note in notes {
        let f = frequency(note);
        for i in 0..per_note {
            let t = i as f32 / RATE as f32;
            // A quick rise and a decay, so that repeated notes are heard apart.
            let envelope = (t / 0.01).min(1.0) * (-4.0 * t).exp();
            let v = 0.4 * envelope * (2.0 * std::f32::consts::PI * f * t).sin();
            writer
                .write_sample((v * i16::MAX as f32) as i16)
                .with_context(fail)?;
        }
    }
    writer.finalize().with_context(fail)?;

    let (low, high) = (
        *notes.iter().min().unwrap_or(&60),
        *notes.iter().max().unwrap_or(&72),
    );
    let pitches: Vec<u8> = (low..=high).rev().collect();
    let values: Vec<Vec<f32>> = pitches
        .iter()
        .map(|&p| notes.iter().map(|&n| f32::from(n == p)).collect())
        .collect();
    let roll = dir.join("piano-roll.png");
    heat_table(
        &roll,
        &format!("{name}: the melody it wrote, a note per step (melody.wav)"),
        &pitches.iter().map(|&p| note_name(p)).collect::<Vec<_>>(),
        &(1..=notes.len()).map(|k| k.to_string()).collect::<Vec<_>>(),
        &values,
    )?;
    Ok(vec![roll, wav])
}

/// `C4` for 60, `A#4` for 70.
pub fn note_name(note: u8) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    format!("{}{}", NAMES[note as usize % 12], note as i32 / 12 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_named_and_tuned() {
        assert_eq!(note_name(60), "C4");
        assert_eq!(note_name(70), "A#4");
        assert!((frequency(69) - 440.0).abs() < 1e-3);
        assert!((frequency(81) - 880.0).abs() < 1e-2);
    }

    #[test]
    fn a_melody_is_written_as_sound_and_picture() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_melody(dir.path(), "test", &[60, 62, 64, 65, 67]).unwrap();
        assert_eq!(paths.len(), 2);
        let reader = hound::WavReader::open(dir.path().join("melody.wav")).unwrap();
        assert_eq!(reader.spec().sample_rate, RATE);
        assert_eq!(
            reader.len() as usize,
            5 * (RATE as f32 * NOTE_SECONDS) as usize
        );
        assert!(write_melody(dir.path(), "test", &[]).is_err());
    }
}
