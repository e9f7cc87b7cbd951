//! MNIST and Fashion-MNIST: finding the four IDX files, loading them as `u8`,
//! and viewing them as Burn datasets with a deterministic validation split.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::Dataset;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Classes of MNIST and of Fashion-MNIST.
const CLASSES: u8 = 10;

use crate::download::{self, Remote, RemoteFile};
use crate::error::{DataError, Result};
use crate::idx::{self, PIXELS};

/// Which of the two MNIST-format datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Mnist,
    FashionMnist,
}

/// The two splits the files come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    fn stems(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// Per-pixel mean and standard deviation after scaling to [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization {
    pub mean: f32,
    pub std: f32,
}

impl Kind {
    /// Human name, as in messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mnist => "MNIST",
            Kind::FashionMnist => "Fashion-MNIST",
        }
    }

    /// Folder name in the cache.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Mnist => "mnist",
            Kind::FashionMnist => "fashion-mnist",
        }
    }

    /// The environment variable that names a local copy.
    pub fn env_var(self) -> &'static str {
        match self {
            Kind::Mnist => "DLSUITE_MNIST_DIR",
            Kind::FashionMnist => "DLSUITE_FASHION_MNIST_DIR",
        }
    }

    pub fn class_names(self) -> [&'static str; 10] {
        match self {
            Kind::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Kind::FashionMnist => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// The training set's pixel statistics, used to normalise inputs.
    pub fn normalization(self) -> Normalization {
        match self {
            Kind::Mnist => Normalization {
                mean: 0.1307,
                std: 0.3081,
            },
            Kind::FashionMnist => Normalization {
                mean: 0.2860,
                std: 0.3530,
            },
        }
    }

    /// Public mirrors and the publishers' MD5 checksums of the gzipped files.
    pub fn remote(self) -> Remote {
        let (mirrors, sums): (&[&str], [&str; 4]) = match self {
            Kind::Mnist => (
                &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/",
                ],
                [
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                    "9fb629c4189551a2d022fa330f9573f3",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ],
            ),
            Kind::FashionMnist => (
                &[
                    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
                ],
                [
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "25c81989df183df01b3e8a0aad5dffbe",
                    "bef4ecab320f06d8554ea6380940ec79",
                    "bb300cfdad3c16e7a12a480ee83fd310",
                ],
            ),
        };
        let names = [Split::Train, Split::Test]
            .into_iter()
            .flat_map(|s| {
                let (images, labels) = s.stems();
                [images, labels]
            })
            .map(|stem| format!("{stem}.gz"));
        Remote {
            mirrors: mirrors.iter().map(|m| m.to_string()).collect(),
            files: names
                .zip(sums)
                .map(|(name, md5)| RemoteFile {
                    name,
                    md5: md5.to_string(),
                })
                .collect(),
        }
    }

    /// Folders where a system package, or a team's shared data folder
    /// beside the checkout, may hold the files.
    fn system_dirs(self) -> Vec<PathBuf> {
        vec![
            PathBuf::from(format!("/usr/share/datasets/{}", self.slug())),
            PathBuf::from(format!("../shared/data/{}", self.slug())),
        ]
    }
}

/// One split held in memory as bytes: 47 MB for MNIST's training set.
#[derive(Clone, Debug)]
pub struct Digits {
    images: Vec<u8>,
    labels: Vec<u8>,
}

impl Digits {
    /// Builds a set from raw pixels (`PIXELS` bytes an image) and labels 0–9.
    pub fn new(images: Vec<u8>, labels: Vec<u8>) -> Result<Self> {
        if images.len() != labels.len() * PIXELS {
            return Err(DataError::InvalidArgument {
                what: "digits",
                reason: format!(
                    "{} pixel bytes do not make {} images of 28x28",
                    images.len(),
                    labels.len()
                ),
            });
        }
        if let Some(&label) = labels.iter().find(|&&l| l > 9) {
            return Err(DataError::InvalidArgument {
                what: "digits",
                reason: format!("label {label} is above 9"),
            });
        }
        Ok(Self { images, labels })
    }

    /// Loads one split from a folder holding the IDX files, gzipped or not.
    pub fn load_dir(dir: &Path, split: Split) -> Result<Self> {
        let (image_stem, label_stem) = split.stems();
        let images_path = find_file(dir, image_stem)?;
        let labels_path = find_file(dir, label_stem)?;
        let (images, labels) = std::thread::scope(|s| {
            // The two inflates are independent; doing them side by side
            // nearly halves the load time on two cores.
            let images = s.spawn(|| idx::read_images(&images_path));
            let labels = idx::read_labels(&labels_path);
            (images.join().expect("image loader thread panicked"), labels)
        });
        let (images, labels) = (images?, labels?);
        let n_images = images.len() / PIXELS;
        if n_images != labels.len() {
            return Err(DataError::CountMismatch {
                images: images_path,
                n_images,
                labels: labels_path,
                n_labels: labels.len(),
            });
        }
        Ok(Self { images, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 pixels of image `index`, row-major, 0 = black.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.images[index * PIXELS..(index + 1) * PIXELS]
    }

    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    pub fn pixels(&self) -> &[u8] {
        &self.images
    }
}

/// Finds `stem.gz` or `stem` in `dir`.
fn find_file(dir: &Path, stem: &str) -> Result<PathBuf> {
    let candidates = [dir.join(format!("{stem}.gz")), dir.join(stem)];
    if let Some(file) = candidates.iter().find(|p| p.is_file()) {
        return Ok(file.clone());
    }
    if let Some(folder) = candidates.iter().find(|p| p.is_dir()) {
        return Err(DataError::FolderNotFile {
            path: folder.clone(),
        });
    }
    let [gz, _] = candidates;
    Err(DataError::Missing { path: gz })
}

fn has_all_files(dir: &Path) -> bool {
    [Split::Train, Split::Test].iter().all(|s| {
        let (images, labels) = s.stems();
        find_file(dir, images).is_ok() && find_file(dir, labels).is_ok()
    })
}

/// Where to look for a dataset, in order: an explicit folder, the user cache,
/// system folders, then a download into the cache.
#[derive(Clone, Debug)]
pub struct Locator {
    pub kind: Kind,
    /// A folder the user named; when set, it is the only place looked at.
    pub explicit: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    pub system: Vec<PathBuf>,
    /// `None` disables downloading.
    pub remote: Option<Remote>,
    pub progress: bool,
}

impl Locator {
    /// The usual search: `explicit`, else the kind's environment variable,
    /// else the cache, the system folders and the public mirrors.
    pub fn new(kind: Kind, explicit: Option<PathBuf>) -> Self {
        let explicit = explicit.or_else(|| std::env::var_os(kind.env_var()).map(PathBuf::from));
        Self {
            kind,
            explicit,
            cache: dirs::cache_dir().map(|d| d.join("dlsuite").join(kind.slug())),
            system: kind.system_dirs(),
            remote: Some(kind.remote()),
            progress: true,
        }
    }

    /// Returns a folder holding all four files, downloading them if needed.
    pub fn locate(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.explicit {
            if dir.is_file() {
                return Err(DataError::FileNotFolder { path: dir.clone() });
            }
            if !dir.is_dir() {
                return Err(DataError::Missing { path: dir.clone() });
            }
            // Name the first missing file rather than a vague "not found".
            for split in [Split::Train, Split::Test] {
                let (images, labels) = split.stems();
                find_file(dir, images)?;
                find_file(dir, labels)?;
            }
            return Ok(dir.clone());
        }
        let mut tried = Vec::new();
        for dir in self.cache.iter().chain(&self.system) {
            if has_all_files(dir) {
                return Ok(dir.clone());
            }
            tried.push(format!("  {}", dir.display()));
        }
        if let (Some(remote), Some(cache)) = (&self.remote, &self.cache) {
            match download::fetch(remote, cache, self.progress) {
                Ok(()) => return Ok(cache.clone()),
                Err(err) => tried.push(format!("  {err}")),
            }
        }
        Err(DataError::NotFound {
            dataset: self.kind.name(),
            env_var: self.kind.env_var(),
            tried: tried.join("\n"),
        })
    }

    /// Locates and loads both splits, side by side.
    pub fn load(&self) -> Result<(Digits, Digits)> {
        let dir = self.locate()?;
        let (train, test) = std::thread::scope(|s| {
            let test = s.spawn(|| Digits::load_dir(&dir, Split::Test));
            let train = Digits::load_dir(&dir, Split::Train);
            (train, test.join().expect("test-set loader thread panicked"))
        });
        Ok((train?, test?))
    }
}

/// One image and its class, as a dataset yields it.
#[derive(Clone, Debug)]
pub struct DigitItem {
    pub pixels: [u8; PIXELS],
    pub label: u8,
}

/// A view of [`Digits`] through a list of indices: splits, subsets and
/// shuffles share the one copy of the pixels.
#[derive(Clone, Debug)]
pub struct DigitSet {
    digits: Arc<Digits>,
    indices: Vec<u32>,
    /// Labels replaced by [`DigitSet::with_label_noise`], by source index.
    relabelled: Option<Arc<HashMap<u32, u8>>>,
}

impl DigitSet {
    pub fn new(digits: Arc<Digits>) -> Self {
        let indices = (0..digits.len() as u32).collect();
        Self {
            digits,
            indices,
            relabelled: None,
        }
    }

    /// Splits off the last `n` items, the conventional validation set
    /// (MNIST's last 5,000 training images).
    pub fn split_last(self, n: usize) -> Result<(DigitSet, DigitSet)> {
        if n >= self.indices.len() {
            return Err(DataError::InvalidArgument {
                what: "validation size",
                reason: format!(
                    "{n} would leave no training images out of {}",
                    self.indices.len()
                ),
            });
        }
        let cut = self.indices.len() - n;
        let tail = self.indices[cut..].to_vec();
        let mut head = self.indices;
        head.truncate(cut);
        Ok((
            DigitSet {
                digits: self.digits.clone(),
                indices: head,
                relabelled: self.relabelled.clone(),
            },
            DigitSet {
                digits: self.digits,
                indices: tail,
                relabelled: self.relabelled,
            },
        ))
    }

    /// The same items in an order fixed by `seed`.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.indices
            .shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        self
    }

    /// The first `n` items (all of them if fewer).
    pub fn take(mut self, n: usize) -> Self {
        self.indices.truncate(n);
        self
    }

    /// Gives `fraction` of the items (chosen by `seed`) a wrong label, drawn
    /// at random from the other classes: the noisy labels real data sets
    /// have, which a net with room to spare memorises.
    pub fn with_label_noise(mut self, fraction: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(DataError::InvalidArgument {
                what: "label noise",
                reason: format!("{fraction} is not a fraction in [0, 1)"),
            });
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let count = (fraction * self.indices.len() as f64).round() as usize;
        let mut chosen = self.indices.clone();
        chosen.shuffle(&mut rng);
        let mut relabelled = self.relabelled.as_deref().cloned().unwrap_or_default();
        for &source in &chosen[..count] {
            let label = self.digits.label(source as usize);
            // One of the nine other classes, each as likely.
            let other = (label + rng.random_range(1..CLASSES)) % CLASSES;
            relabelled.insert(source, other);
        }
        self.relabelled = Some(Arc::new(relabelled));
        Ok(self)
    }

    /// The label item `i` is trained with (a replaced one if it was).
    pub fn label(&self, i: usize) -> u8 {
        let source = self.indices[i];
        self.relabelled
            .as_ref()
            .and_then(|r| r.get(&source).copied())
            .unwrap_or_else(|| self.digits.label(source as usize))
    }

    /// Index into the underlying [`Digits`] of item `i`.
    pub fn source_index(&self, i: usize) -> usize {
        self.indices[i] as usize
    }

    pub fn digits(&self) -> &Digits {
        &self.digits
    }
}

impl Dataset<DigitItem> for DigitSet {
    fn get(&self, index: usize) -> Option<DigitItem> {
        let source = *self.indices.get(index)? as usize;
        let mut pixels = [0u8; PIXELS];
        pixels.copy_from_slice(self.digits.image(source));
        Some(DigitItem {
            pixels,
            label: self.label(index),
        })
    }

    fn len(&self) -> usize {
        self.indices.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize) -> DigitSet {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        DigitSet::new(Arc::new(Digits::new(vec![0; n * PIXELS], labels).unwrap()))
    }

    #[test]
    fn label_noise_changes_that_share_of_labels_always_to_another_class() {
        let noisy = set(1000).with_label_noise(0.2, 7).unwrap();
        let changed: Vec<usize> = (0..1000)
            .filter(|&i| noisy.label(i) != noisy.digits().label(i))
            .collect();
        assert_eq!(changed.len(), 200, "a label changed is never its own class");
        let items: Vec<u8> = (0..1000).map(|i| noisy.get(i).unwrap().label).collect();
        assert!(
            (0..1000).all(|i| items[i] == noisy.label(i)),
            "items carry the new labels"
        );
        let again = set(1000).with_label_noise(0.2, 7).unwrap();
        assert!(
            (0..1000).all(|i| again.label(i) == noisy.label(i)),
            "fixed by the seed"
        );
        // The wrong labels stay with their images through a split and a shuffle.
        let (head, _) = noisy.clone().split_last(100).unwrap();
        let shuffled = head.shuffled(3);
        for i in 0..shuffled.len() {
            let source = shuffled.source_index(i);
            assert_eq!(shuffled.label(i), noisy.label(source));
        }
        assert!(set(10).with_label_noise(1.0, 1).is_err());
    }
}
