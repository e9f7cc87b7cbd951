use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use burn::data::dataloader::DataLoader;
use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::tensor::backend::AutodiffBackend;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::LearningRateMetric;
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};
use burn::train::{
    InferenceStep, Learner, MetricEarlyStoppingStrategy, StoppingCondition, SupervisedTraining,
    TrainStep,
};
use serde::{Deserialize, Serialize};

use crate::figures::Figures;
use crate::keep_best::{AfterCheckpoint, CheckpointBarrier, KeepLastAndBest};
use crate::logger::{EpochLog, EpochMetrics};
use crate::reported::{Figure, Reported};
use crate::resume::ContinuedShuffle;
use crate::schedule::LrSchedule;

/// How to train: everything burn-train's `Learner` needs beyond the model
/// and the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    pub epochs: usize,
    pub schedule: LrSchedule,
    /// Stop when the validation loss has not improved for this many epochs.
    pub patience: Option<usize>,
    /// Show burn-train's terminal dashboard instead of a line per epoch.
    pub dashboard: bool,
    /// Resume from the checkpoint written at the end of this epoch.
    pub resume_from: Option<usize>,
    /// Read the steps' loss and accuracy back from the device every this
    /// many steps (and at each epoch's end): on a GPU each read waits for
    /// the work queued before it. 1 reads every step.
    #[serde(default = "every_step")]
    pub read_every: usize,
}

fn every_step() -> usize {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("epochs must be at least 1")]
    NoEpochs,
    #[error("learning rate {0} must be a positive number")]
    BadLearningRate(f64),
    #[error(
        "the training loss became NaN or infinite in epoch {epoch} (seen at step {step}; learning rate {lr}): \
         the run diverged; try a smaller learning rate (e.g. --lr {smaller}). {kept}",
        smaller = lr / 10.0,
        kept = match last_good_epoch {
            Some(e) => format!("The last good checkpoint (epoch {e}) is kept; nothing after it was saved."),
            None => "No epoch finished, so there is no checkpoint to keep.".to_string(),
        }
    )]
    Diverged {
        epoch: usize,
        step: usize,
        lr: f64,
        last_good_epoch: Option<usize>,
    },
    #[error(
        "{what}; training stopped after {done} epoch(s). What was written before is kept: --resume continues from the last whole checkpoint"
    )]
    Stopped { what: String, done: usize },
    #[error("{path}: cannot load the best epoch's weights ({epoch}) to keep: {message}")]
    BestLost {
        path: String,
        epoch: usize,
        message: String,
    },
}

/// The trained (inference) model and the per-epoch figures.
pub struct FitResult<M> {
    pub model: M,
    pub epochs: Vec<EpochMetrics>,
    /// The epoch whose weights `model` holds: the last one, or with early
    /// stopping the one of lowest validation loss.
    pub kept_epoch: usize,
    /// How many times the metrics read steps' figures back from the device.
    pub figure_reads: usize,
}

/// Trains a classifier with `optimizer` through burn-train's `Learner`:
/// accuracy, loss and learning rate metrics, a checkpoint each epoch under
/// `dir/checkpoint`, early stopping on the validation loss, and
/// `dir/metrics.jsonl`.
pub fn fit<B, M, O>(
    model: M,
    optimizer: O,
    config: &FitConfig,
    train: Arc<dyn DataLoader<B, <M as TrainStep>::Input>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, <M::InnerModule as InferenceStep>::Input>>,
    dir: &Path,
) -> Result<FitResult<M::InnerModule>, FitError>
where
    B: AutodiffBackend,
    M: TrainStep<Output = Figures<B>> + AutodiffModule<B> + Display + 'static,
    M::InnerModule: InferenceStep<Output = Figures<B::InnerBackend>>,
    O: Optimizer<M, B> + 'static,
{
    fit_reporting(model, optimizer, config, train, valid, dir, true)
}

/// [`fit`] for a model that classifies nothing (an autoencoder's
/// reconstruction): the loss is the only metric, and the history's
/// accuracies are NaN.
pub fn fit_regression<B, M, O>(
    model: M,
    optimizer: O,
    config: &FitConfig,
    train: Arc<dyn DataLoader<B, <M as TrainStep>::Input>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, <M::InnerModule as InferenceStep>::Input>>,
    dir: &Path,
) -> Result<FitResult<M::InnerModule>, FitError>
where
    B: AutodiffBackend,
    M: TrainStep<Output = Figures<B>> + AutodiffModule<B> + Display + 'static,
    M::InnerModule: InferenceStep<Output = Figures<B::InnerBackend>>,
    O: Optimizer<M, B> + 'static,
{
    fit_reporting(model, optimizer, config, train, valid, dir, false)
}

/// The Learner's wiring, with the accuracy metric or without.
fn fit_reporting<B, M, O>(
    model: M,
    optimizer: O,
    config: &FitConfig,
    train: Arc<dyn DataLoader<B, <M as TrainStep>::Input>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, <M::InnerModule as InferenceStep>::Input>>,
    dir: &Path,
    accuracy: bool,
) -> Result<FitResult<M::InnerModule>, FitError>
where
    B: AutodiffBackend,
    M: TrainStep<Output = Figures<B>> + AutodiffModule<B> + Display + 'static,
    M::InnerModule: InferenceStep<Output = Figures<B::InnerBackend>>,
    O: Optimizer<M, B> + 'static,
{
    if config.epochs == 0 {
        return Err(FitError::NoEpochs);
    }
    let lr = config.schedule.initial();
    if !(lr.is_finite() && lr > 0.0) {
        return Err(FitError::BadLearningRate(lr));
    }
    let log = EpochLog::new(
        Some(dir.join("metrics.jsonl")),
        !config.dashboard,
        config.epochs,
    )
    .starting_at(config.resume_from.map_or(1, |e| e + 1));
    let epochs = log.handle();
    let diverged = log.divergence();
    let log_failure = log.write_failure();
    let recorder = crate::Recorder::new();
    let train: Arc<dyn DataLoader<B, <M as TrainStep>::Input>> = match config.resume_from {
        Some(done) => Arc::new(ContinuedShuffle::new(train, done)),
        None => train,
    };
    let device = model.devices().into_iter().next();
    let barrier = CheckpointBarrier::new(
        recorder.clone(),
        Arc::new(move || {
            if let Some(device) = &device {
                let _ = B::sync(device);
            }
        }),
    );
    let mut training = SupervisedTraining::new(dir, train, valid);
    let interrupter = training.interrupter();
    let log = log.stop_on_divergence(interrupter.clone());
    let reads = Arc::new(AtomicUsize::new(0));
    let every = config.read_every;
    let figures = if accuracy {
        vec![Figure::Accuracy, Figure::Loss]
    } else {
        vec![Figure::Loss]
    };
    for figure in figures {
        training = training
            .metric_train_numeric(Reported::<B>::new(figure, every, reads.clone()))
            .metric_valid_numeric(Reported::<B::InnerBackend>::new(
                figure,
                every,
                reads.clone(),
            ));
    }
    training = training
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(log)
        .with_file_checkpointer(recorder.clone())
        .with_checkpointing_strategy(KeepLastAndBest::new(epochs.clone(), barrier.clone()))
        .num_epochs(config.epochs);
    let early_stopping = config.patience.map(|n_epochs| {
        MetricEarlyStoppingStrategy::new(
            &Reported::<B>::new(Figure::Loss, 1, Arc::default()),
            Aggregate::Mean,
            Direction::Lowest,
            Split::Valid,
            StoppingCondition::NoImprovementSince { n_epochs },
        )
    });
    training = training.early_stopping(AfterCheckpoint {
        barrier,
        early_stopping,
    });
    if let Some(epoch) = config.resume_from {
        training = training.checkpoint(epoch);
    }
    if !config.dashboard {
        training = training.renderer(Quiet);
    }
    let result = training.launch(Learner::new(model, optimizer, config.schedule.scheduler()));
    let mut renderer = result.renderer;
    renderer.manual_close();
    let epochs = epochs.lock().map(|e| e.clone()).unwrap_or_default();
    if let Some(d) = diverged.lock().ok().and_then(|d| *d) {
        let last_good = d.epoch.saturating_sub(1);
        return Err(FitError::Diverged {
            epoch: d.epoch,
            step: d.step,
            lr: config.schedule.initial(),
            last_good_epoch: (last_good >= 1).then_some(last_good),
        });
    }
    // A failed write, or a stop from the dashboard: the run is not finished.
    let failed_write = recorder
        .failure()
        .or_else(|| log_failure.lock().ok().and_then(|f| f.clone()));
    if let Some(what) = failed_write.or_else(|| {
        interrupter.should_stop().then(|| {
            interrupter
                .get_message()
                .unwrap_or_else(|| "stopped".into())
        })
    }) {
        return Err(FitError::Stopped {
            what,
            done: epochs.len(),
        });
    }
    let last = epochs.last().map_or(0, |e| e.epoch);
    let (model, kept_epoch) = match (config.patience, best_epoch(&epochs)) {
        // Early stopping ends `patience` epochs past the best one; those
        // later weights are what it is meant to avoid.
        (Some(_), Some(best)) if best != last => {
            let path = dir.join("checkpoint").join(format!("model-{best}.mpk"));
            let device = result.model.devices().into_iter().next();
            let loaded = device.ok_or_else(|| "the model holds no tensors".to_string());
            let model = loaded.and_then(|device| {
                result
                    .model
                    .load_file(&path, &recorder, &device)
                    .map_err(|e| e.to_string())
            });
            let model = model.map_err(|message| FitError::BestLost {
                path: path.display().to_string(),
                epoch: best,
                message,
            })?;
            (model, best)
        }
        _ => (result.model, last),
    };
    Ok(FitResult {
        model,
        epochs,
        kept_epoch,
        figure_reads: reads.load(Ordering::Relaxed),
    })
}

/// The epoch of lowest validation loss (the first of equals), as burn-train's
/// default checkpointing keeps it.
pub fn best_epoch(epochs: &[EpochMetrics]) -> Option<usize> {
    epochs
        .iter()
        .filter(|e| e.valid_loss.is_finite())
        .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
        .map(|e| e.epoch)
}

/// Renders nothing: without a terminal, [`EpochLog`] prints one line an epoch.
struct Quiet;

impl MetricsRendererTraining for Quiet {
    fn update_train(&mut self, _: MetricState) {}
    fn update_valid(&mut self, _: MetricState) {}
    fn render_train(&mut self, _: TrainingProgress, _: Vec<ProgressType>) {}
    fn render_valid(&mut self, _: TrainingProgress, _: Vec<ProgressType>) {}
}

impl MetricsRendererEvaluation for Quiet {
    fn update_test(&mut self, _: EvaluationName, _: MetricState) {}
    fn render_test(&mut self, _: EvaluationProgress, _: Vec<ProgressType>) {}
}

impl MetricsRenderer for Quiet {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _: burn::train::metric::MetricDefinition) {}
}
