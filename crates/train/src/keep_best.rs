//! Which checkpoints a run keeps: the last two (a resume falls back to the
//! earlier one when the last was cut short) and the epoch of lowest
//! validation loss as `metrics.jsonl` records it, the weights early stopping
//! keeps. burn-train's own best-epoch strategy asks the event store, whose
//! logger keeps only recent epochs (and once named another epoch than the
//! history and deleted the one early stopping needed); this one reads the
//! history the suite reports.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, Direction, EventStoreClient, Split};
use burn::train::{EarlyStoppingStrategy, MetricEarlyStoppingStrategy};

use crate::learner::best_epoch;
use crate::logger::EpochMetrics;
use crate::Recorder;

pub(crate) struct KeepLastAndBest {
    epochs: Arc<Mutex<Vec<EpochMetrics>>>,
    best: Option<usize>,
    barrier: CheckpointBarrier,
}

impl KeepLastAndBest {
    pub(crate) fn new(epochs: Arc<Mutex<Vec<EpochMetrics>>>, barrier: CheckpointBarrier) -> Self {
        Self {
            epochs,
            best: None,
            barrier,
        }
    }
}

/// Makes the training thread wait while burn-train's checkpoint threads
/// read the weights: with operation fusion, a read from another thread
/// while training goes on races with it ("Should have handle for tensor";
/// tracel-ai/burn#4347). Before a save, every queued operation is run;
/// after it, training waits (in [`AfterCheckpoint`]) until the model's,
/// optimizer's and scheduler's files are written.
#[derive(Clone)]
pub(crate) struct CheckpointBarrier {
    recorder: Recorder,
    /// The save count to wait for: three saves per checkpoint.
    until: Arc<AtomicUsize>,
    sync: Arc<dyn Fn() + Send + Sync>,
}

impl CheckpointBarrier {
    pub(crate) fn new(recorder: Recorder, sync: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self {
            recorder,
            until: Arc::new(AtomicUsize::new(0)),
            sync,
        }
    }

    fn before_save(&self) {
        (self.sync)();
        self.until
            .store(self.recorder.saves() + 3, Ordering::SeqCst);
    }

    fn wait(&self) {
        let until = self.until.load(Ordering::SeqCst);
        // A save that hangs must not hang training for ever.
        self.recorder
            .wait_for_saves(until, Duration::from_secs(30 * 60));
    }
}

/// burn-train's early stopping hook, the first thing it runs on the
/// training thread after a checkpoint is handed over: it waits for the
/// checkpoint, then asks the early stopping strategy, if there is one.
#[derive(Clone)]
pub(crate) struct AfterCheckpoint {
    pub(crate) barrier: CheckpointBarrier,
    pub(crate) early_stopping: Option<MetricEarlyStoppingStrategy>,
}

impl EarlyStoppingStrategy for AfterCheckpoint {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        self.barrier.wait();
        self.early_stopping
            .as_mut()
            .is_some_and(|s| s.should_stop(epoch, store))
    }
}

impl CheckpointingStrategy for KeepLastAndBest {
    fn checkpointing(
        &mut self,
        epoch: usize,
        store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        // The event store answers a query only after every event sent before
        // it, so the epoch's line is in the history once this returns.
        let _ = store.find_epoch("Loss", Aggregate::Mean, Direction::Lowest, &Split::Valid);
        let best = self.epochs.lock().ok().and_then(|e| best_epoch(&e));
        let actions = actions(epoch, best, self.best);
        self.best = best;
        self.barrier.before_save();
        actions
    }
}

/// Save this epoch; delete the one before last and the former best unless
/// they are still to be kept.
fn actions(epoch: usize, best: Option<usize>, old_best: Option<usize>) -> Vec<CheckpointingAction> {
    let kept = |e: usize| e + 2 > epoch || Some(e) == best;
    let mut actions = vec![CheckpointingAction::Save];
    if epoch >= 3 && !kept(epoch - 2) {
        actions.push(CheckpointingAction::Delete(epoch - 2));
    }
    if let Some(old) = old_best {
        if !kept(old) && old + 2 != epoch {
            actions.push(CheckpointingAction::Delete(old));
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(epoch: usize, valid_loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: 1.0,
            train_accuracy: 50.0,
            valid_loss,
            valid_accuracy: 50.0,
            lr: 1e-3,
            seconds: 1.0,
        }
    }

    /// Runs the strategy over `losses`; returns the epochs left on disk.
    fn kept_after(losses: &[f64]) -> Vec<usize> {
        let mut history = Vec::new();
        let mut old_best = None;
        let mut on_disk = std::collections::BTreeSet::new();
        for (i, &loss) in losses.iter().enumerate() {
            let e = i + 1;
            history.push(epoch(e, loss));
            let best = best_epoch(&history);
            for action in actions(e, best, old_best) {
                match action {
                    CheckpointingAction::Save => assert!(on_disk.insert(e)),
                    CheckpointingAction::Delete(d) => {
                        assert!(on_disk.remove(&d), "deleted {d} twice")
                    }
                }
            }
            old_best = best;
        }
        on_disk.into_iter().collect()
    }

    #[test]
    fn keeps_the_last_two_and_the_lowest_validation_loss() {
        assert_eq!(kept_after(&[3.0, 2.0, 1.0, 2.0, 3.0, 4.0]), [3, 5, 6]);
        assert_eq!(kept_after(&[3.0, 2.0, 1.0, 0.5]), [3, 4]);
        assert_eq!(kept_after(&[1.0, 2.0, 3.0]), [1, 2, 3]);
        assert_eq!(kept_after(&[1.0, 2.0, 3.0, 0.1, 5.0, 6.0, 7.0]), [4, 6, 7]);
        // A new best while the old one is one of the last two.
        assert_eq!(kept_after(&[5.0, 4.0, 3.0, 2.0, 1.0]), [4, 5]);
    }
}
