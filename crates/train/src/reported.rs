//! The loss and accuracy metrics of the suite's runs, read from the device
//! in batches of steps.
//!
//! Each metric keeps the [`Figures`] of the steps it has not read and reads
//! them in one transaction once it holds `every` of them, or at the last
//! step of an epoch. A step it has not read yet reports the last value it
//! read with a weight of 0, so epoch means (the history's, early
//! stopping's) count every example once. With `every` = 1 each step is
//! read as it comes, as burn's own metrics do. An epoch's loss is the mean
//! over its examples (or scored tokens); burn's own loss metric weighed
//! every batch alike, whatever its size.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::Transaction;
use burn::train::metric::{
    format_float, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};

use crate::figures::Figures;

/// Which of a step's two figures a metric reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Figure {
    /// The mean loss per example, under burn's name "Loss".
    Loss,
    /// The share of right answers in percent, under burn's name "Accuracy".
    Accuracy,
}

impl Figure {
    fn name(self) -> &'static str {
        match self {
            Figure::Loss => "Loss",
            Figure::Accuracy => "Accuracy",
        }
    }

    fn scale(self) -> f64 {
        match self {
            Figure::Loss => 1.0,
            Figure::Accuracy => 100.0,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Reported<B: Backend> {
    figure: Figure,
    name: MetricName,
    every: usize,
    unread: Vec<Figures<B>>,
    /// This epoch's sum of the figure and its count of examples.
    sum: f64,
    count: usize,
    /// What the last update brought: the mean of the steps it read and
    /// their examples (0 when it read nothing).
    last: f64,
    last_count: usize,
    /// Device reads so far, shared with whoever asked.
    reads: Arc<AtomicUsize>,
}

impl<B: Backend> Reported<B> {
    /// A metric that reads every `every` steps (at least 1).
    pub(crate) fn new(figure: Figure, every: usize, reads: Arc<AtomicUsize>) -> Self {
        Self {
            figure,
            name: Arc::new(figure.name().to_string()),
            every: every.max(1),
            unread: Vec::new(),
            sum: 0.0,
            count: 0,
            last: f64::NAN,
            last_count: 0,
            reads,
        }
    }

    /// This epoch's mean so far.
    fn running(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }

    /// Reads the figures held, in one transaction: their sum and count.
    fn read(&mut self) -> (f64, usize) {
        let held = std::mem::take(&mut self.unread);
        let counts: Vec<usize> = held.iter().map(|f| f.count).collect();
        let figure = self.figure;
        if figure == Figure::Accuracy && held.iter().any(|f| f.right.is_none()) {
            // Steps that classify nothing have no accuracy to report.
            return (f64::NAN, counts.iter().sum());
        }
        let transaction =
            held.into_iter()
                .fold(Transaction::default(), |t, f| match (figure, f.right) {
                    (Figure::Accuracy, Some(right)) => t.register(right),
                    _ => t.register(f.loss),
                });
        self.reads.fetch_add(1, Ordering::Relaxed);
        let sum = match transaction.try_execute() {
            Ok(data) => data
                .iter()
                .zip(&counts)
                .map(|(d, &n)| {
                    let value = d.iter::<f64>().next().unwrap_or(f64::NAN);
                    // A loss comes as the batch's mean, right answers as a count.
                    match figure {
                        Figure::Loss => value * n as f64,
                        Figure::Accuracy => value,
                    }
                })
                .sum(),
            Err(e) => {
                eprintln!("cannot read the training figures from the device: {e:?}");
                f64::NAN
            }
        };
        (sum * figure.scale(), counts.iter().sum())
    }
}

impl<B: Backend> Metric for Reported<B> {
    type Input = Figures<B>;

    fn update(&mut self, item: &Figures<B>, metadata: &MetricMetadata) -> SerializedEntry {
        self.unread.push(item.clone());
        let progress = &metadata.progress;
        let epoch_ends = progress.items_processed >= progress.items_total;
        if self.unread.len() >= self.every || epoch_ends {
            let (sum, count) = self.read();
            self.sum += sum;
            self.count += count;
            self.last = if count > 0 {
                sum / count as f64
            } else {
                f64::NAN
            };
            self.last_count = count;
        } else {
            self.last_count = 0;
        }
        let serialized = self.value().serialize();
        let formatted = format!(
            "epoch {} - last read {}",
            format_float(self.running(), 4),
            format_float(self.last, 4)
        );
        SerializedEntry::new(formatted, serialized)
    }

    fn clear(&mut self) {
        *self = Self::new(self.figure, self.every, self.reads.clone());
    }

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: (self.figure == Figure::Accuracy).then(|| "%".to_string()),
            higher_is_better: self.figure == Figure::Accuracy,
        }
        .into()
    }
}

impl<B: Backend> Numeric for Reported<B> {
    /// A step left unread weighs nothing; its value repeats the last one read
    /// (for the dashboard's plot), or 0 where that is not a number, since
    /// burn-train multiplies a value by its weight.
    fn value(&self) -> NumericEntry {
        let aggregated_value = match (self.last_count, self.last.is_finite()) {
            (0, false) => 0.0,
            _ => self.last,
        };
        NumericEntry::Aggregated {
            aggregated_value,
            count: self.last_count,
        }
    }

    fn running_value(&self) -> NumericEntry {
        NumericEntry::Aggregated {
            aggregated_value: self.running(),
            count: self.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::data::dataloader::Progress;

    type B = NdArray;

    fn metadata(done: usize, total: usize) -> MetricMetadata {
        MetricMetadata {
            progress: Progress {
                items_processed: done,
                items_total: total,
            },
            global_progress: Progress {
                items_processed: 1,
                items_total: 1,
            },
            iteration: None,
            lr: None,
        }
    }

    fn figures(loss_sum: f32, right: i32, count: usize) -> Figures<B> {
        let device = Default::default();
        Figures {
            loss: Tensor::from_floats([loss_sum / count as f32], &device),
            right: Some(Tensor::from_ints([right], &device)),
            count,
        }
    }

    /// Feeds ten steps of 4 examples (the last of 2) to a metric reading
    /// every `every` steps; gives each update's entry and the reads made.
    fn run(figure: Figure, every: usize) -> (Vec<NumericEntry>, usize) {
        let reads = Arc::new(AtomicUsize::new(0));
        let mut metric = Reported::<B>::new(figure, every, reads.clone());
        let mut entries = Vec::new();
        let mut done = 0;
        for step in 0..10 {
            let count = if step == 9 { 2 } else { 4 };
            done += count;
            let item = figures(step as f32, step % 3, count);
            metric.update(&item, &metadata(done, 38));
            entries.push(metric.value());
        }
        (entries, reads.load(Ordering::Relaxed))
    }

    /// The epoch's mean as burn-train's store and the suite's history
    /// compute it: each value times its weight, over the weights.
    fn epoch_mean(entries: &[NumericEntry]) -> f64 {
        let (sum, count) = entries.iter().fold((0.0, 0), |(s, n), e| match e {
            NumericEntry::Aggregated {
                aggregated_value,
                count,
            } => (s + aggregated_value * *count as f64, n + count),
            NumericEntry::Value(v) => (s + v, n + 1),
        });
        sum / count as f64
    }

    #[test]
    fn figures_read_in_batches_give_the_epoch_means_of_reading_each_step() {
        // Losses summed per step 0..9 over 38 examples; right answers
        // 0,1,2,0,1,2,0,1,2,0 = 9 of 38.
        let loss = 45.0 / 38.0;
        let accuracy = 100.0 * 9.0 / 38.0;
        for every in [1, 4, 50] {
            let (entries, reads) = run(Figure::Loss, every);
            assert!((epoch_mean(&entries) - loss).abs() < 1e-9, "every {every}");
            let (entries, _) = run(Figure::Accuracy, every);
            assert!(
                (epoch_mean(&entries) - accuracy).abs() < 1e-9,
                "every {every}"
            );
            // Full batches of `every`, then the rest at the epoch's end.
            assert_eq!(reads, 10usize.div_ceil(every), "every {every}");
        }
    }

    #[test]
    fn an_unread_step_weighs_nothing_and_shows_the_last_value_read() {
        let (entries, _) = run(Figure::Loss, 4);
        let weights: Vec<usize> = entries
            .iter()
            .map(|e| match e {
                NumericEntry::Aggregated { count, .. } => *count,
                NumericEntry::Value(_) => 1,
            })
            .collect();
        assert_eq!(weights, [0, 0, 0, 16, 0, 0, 0, 16, 0, 6]);
        // Before the first read there is no value to show.
        assert_eq!(entries[0].current(), 0.0);
        // Steps 0..3 summed 6 over 16 examples; shown until the next read.
        assert_eq!(entries[3].current(), 6.0 / 16.0);
        assert_eq!(entries[5].current(), 6.0 / 16.0);
    }

    #[test]
    fn a_new_epoch_starts_from_nothing() {
        let reads = Arc::new(AtomicUsize::new(0));
        let mut metric = Reported::<B>::new(Figure::Loss, 2, reads);
        metric.update(&figures(8.0, 0, 4), &metadata(4, 8));
        metric.update(&figures(8.0, 0, 4), &metadata(8, 8));
        metric.clear();
        metric.update(&figures(1.0, 0, 4), &metadata(4, 4));
        assert_eq!(metric.value().current(), 0.25);
        assert_eq!(metric.running_value().current(), 0.25);
    }
}
