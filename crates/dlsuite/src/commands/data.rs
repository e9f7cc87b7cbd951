//! `dlsuite data`: what a dataset folder holds, and how long it takes to load.

use std::path::PathBuf;
use std::time::Instant;

use dlsuite_data::stats::{ascii_art, summarize};
use dlsuite_data::{Digits, Kind, Locator, Split};

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
    pub fn run(self) -> anyhow::Result<()> {
        if self.dataset != DatasetArg::FashionMnist {
            inspect(Kind::Mnist, self.mnist_dir)?;
        }
        if self.dataset != DatasetArg::Mnist {
            inspect(Kind::FashionMnist, self.fashion_dir)?;
        }
        Ok(())
    }
}

/// Loads both splits of `kind` and prints counts, class histogram, pixel
/// mean and std, the first image in ASCII, and load times.
pub fn inspect(kind: Kind, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = Locator::new(kind, dir).locate()?;
    println!("{} from {}", kind.name(), dir.display());
    let mut total = 0.0;
    for split in [Split::Train, Split::Test] {
        let started = Instant::now();
        let digits = Digits::load_dir(&dir, split)?;
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
    println!("\n{} loaded in {:.3} s in all", kind.name(), total);
    Ok(())
}
