//! `dlsuite data`: what a dataset folder holds, and how long it takes to load.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dlsuite_data::stats::{ascii_art, summarize};
use dlsuite_data::{DataError, Digits, Kind, Locator, Split};

#[derive(clap::Args)]
pub struct DataArgs {
    #[arg(long, value_enum, default_value = "all")]
    dataset: DatasetArg,
    /// Folder holding MNIST's four IDX files.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Folder holding Fashion-MNIST's four IDX files.
    #[arg(long)]
    fashion_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DatasetArg {
    All,
    Mnist,
    FashionMnist,
}

impl DataArgs {
    /// With `--dataset all`, a dataset that is not on the machine (and was
    /// not named by a folder) is reported absent, not downloaded: this
    /// command shows what is here. One of the two must be.
    pub fn run(self) -> anyhow::Result<()> {
        let all = self.dataset == DatasetArg::All;
        let mut shown = 0;
        for (kind, dir, wanted) in [
            (
                Kind::Mnist,
                self.mnist_dir,
                self.dataset != DatasetArg::FashionMnist,
            ),
            (
                Kind::FashionMnist,
                self.fashion_dir,
                self.dataset != DatasetArg::Mnist,
            ),
        ] {
            if !wanted {
                continue;
            }
            let mut locator = Locator::new(kind, dir);
            let optional = all && locator.explicit.is_none();
            if optional {
                locator.remote = None;
            }
            match locator.locate() {
                Ok(dir) => {
                    inspect(kind, &dir)?;
                    shown += 1;
                }
                Err(DataError::NotFound { tried, .. }) if optional => {
                    let flag = match kind {
                        Kind::Mnist => "--mnist-dir",
                        Kind::FashionMnist => "--fashion-dir",
                    };
                    println!(
                        "{}: absent (looked in:\n{tried}\n); {flag} DIR names a folder holding its four IDX files\n",
                        kind.name()
                    );
                }
                Err(err) => return Err(err.into()),
            }
        }
        if shown == 0 {
            anyhow::bail!("neither MNIST nor Fashion-MNIST is on this machine (see above)");
        }
        Ok(())
    }
}

/// Loads both splits of `kind` from `dir` and prints counts, class
/// histogram, pixel mean and std, the first image in ASCII, and load times.
pub fn inspect(kind: Kind, dir: &Path) -> anyhow::Result<()> {
    println!("{} from {}", kind.name(), dir.display());
    let mut total = 0.0;
    for split in [Split::Train, Split::Test] {
        let started = Instant::now();
        let digits = Digits::load_dir(dir, split)?;
        let seconds = started.elapsed().as_secs_f64();
        total += seconds;
        let s = summarize(&digits);
        println!(
            "\n{} {}: {} images, loaded in {:.3} s",
            kind.name(),
            split.name(),
            s.count,
            seconds
        );
        println!(
            "  pixel mean {:.5}, std {:.5} (scaled to [0, 1])",
            s.mean, s.std
        );
        let names = kind.class_names();
        for (class, count) in s.histogram.iter().enumerate() {
            println!("  class {class} {:<12} {count:>6}", names[class]);
        }
        if !digits.is_empty() {
            println!(
                "  image 0, label {} ({}):",
                digits.label(0),
                names[digits.label(0) as usize]
            );
            for line in ascii_art(&digits, 0).lines() {
                println!("  |{line}|");
            }
        }
    }
    println!("\n{} loaded in {:.3} s in all\n", kind.name(), total);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(kind: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(kind)
    }

    #[test]
    fn mnist_alone_is_enough_and_a_bad_folder_named_is_an_error() {
        // Fashion-MNIST need not be anywhere: it is reported absent.
        let args = DataArgs {
            dataset: DatasetArg::All,
            mnist_dir: Some(fixture("mnist")),
            fashion_dir: None,
        };
        args.run().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let args = DataArgs {
            dataset: DatasetArg::All,
            mnist_dir: Some(fixture("mnist")),
            fashion_dir: Some(empty.path().into()),
        };
        let err = args.run().unwrap_err().to_string();
        assert!(err.contains("file not found"), "{err}");
    }
}
