//! Lesson: how many examples a step of gradient descent looks at. Full-batch
//! descent follows the true gradient, so its loss falls at every step, but
//! each step reads the whole set; stochastic descent (one example a step)
//! takes cheap, noisy steps that wander; mini-batches sit between, and on
//! hardware built for matrix products they make the most progress a second.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::module::AutodiffModule;
use burn::nn::loss::{CrossEntropyLossConfig, MseLoss, Reduction};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::synthetic::linear_points;
use dlsuite_data::{Digits, ImageBatcher, Kind};
use dlsuite_linear::{LinearRegression, LinearRegressionConfig};
use dlsuite_logistic::{LogisticRegression, LogisticRegressionConfig};
use dlsuite_plots::{function_panels, paths_on_surface, Curve, FunctionPanel, PlotError, Surface};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::config::BatchSizesLesson;
use crate::Lesson;

/// Evaluations on MNIST come at steps growing by this factor, so each run
/// has about as many points per decade of steps, at the same step numbers.
const EVAL_GROWTH: f64 = 1.25;

/// One batch size's walk over the line's two parameters.
#[derive(Clone, Debug, Serialize)]
pub struct LinePath {
    pub batch: usize,
    /// (w, b) from the start, one per step.
    pub path: Vec<(f32, f32)>,
    /// Mean squared error over all the points, one per position.
    pub loss: Vec<f32>,
}

impl LinePath {
    /// Steps after which the loss over all the points went up.
    pub fn rises(&self) -> usize {
        self.loss.windows(2).filter(|w| w[1] > w[0]).count()
    }

    /// Length of the path over the straight distance it covered: 1 for a
    /// straight walk, more the more it wanders.
    pub fn wander(&self) -> f32 {
        let length: f32 = self
            .path
            .windows(2)
            .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
            .sum();
        match (self.path.first(), self.path.last()) {
            (Some(a), Some(b)) => length / ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt(),
            _ => 1.0,
        }
    }
}

/// The loss over the whole training set at one moment of a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LossPoint {
    pub step: usize,
    /// Training time so far, evaluations left out.
    pub seconds: f64,
    pub loss: f32,
}

/// One batch size on MNIST.
#[derive(Clone, Debug, Serialize)]
pub struct MnistRun {
    pub batch: usize,
    pub lr: f64,
    /// At step 0, at steps growing by [`EVAL_GROWTH`], and at the end.
    pub points: Vec<LossPoint>,
}

impl MnistRun {
    fn at_step(&self, step: usize) -> Option<f32> {
        self.points.iter().find(|p| p.step == step).map(|p| p.loss)
    }

    pub fn last(&self) -> LossPoint {
        self.points.last().copied().unwrap_or(LossPoint {
            step: 0,
            seconds: 0.0,
            loss: f32::NAN,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct BatchSizes {
    /// Stochastic, mini-batch, full batch: the same order in both lists.
    pub line: Vec<LinePath>,
    pub mnist: Vec<MnistRun>,
    pub mnist_images: usize,
    #[serde(skip)]
    xs: Vec<f32>,
    #[serde(skip)]
    ys: Vec<f32>,
}

/// Runs the lesson: the line first, then softmax regression on `train`.
pub fn batch_sizes<B: AutodiffBackend>(
    c: &BatchSizesLesson,
    train: &Digits,
    device: &B::Device,
) -> BatchSizes {
    let (xs, ys) = linear_points(c.points, c.noise, c.seed);
    let line = [1, c.mini_batch, c.points]
        .into_iter()
        .map(|batch| line_path::<B>(c, &xs, &ys, batch, device))
        .collect();
    let images = c.images(train.len());
    let mnist = [1, c.mini_batch, images]
        .into_iter()
        .zip(c.mnist_lrs)
        .map(|(batch, lr)| mnist_run::<B>(c, train, images, batch, lr, device))
        .collect();
    BatchSizes {
        line,
        mnist,
        mnist_images: images,
        xs,
        ys,
    }
}

/// The mean squared error of `w·x + b` over the points, on the host.
fn line_loss(xs: &[f32], ys: &[f32], w: f32, b: f32) -> f32 {
    let sum: f64 = xs
        .iter()
        .zip(ys)
        .map(|(&x, &y)| ((w * x + b - y) as f64).powi(2))
        .sum();
    (sum / xs.len().max(1) as f64) as f32
}

/// Batches of `batch` indices into `0..n`, reshuffled at each pass.
struct Batches {
    order: Vec<usize>,
    batch: usize,
    cursor: usize,
    rng: StdRng,
}

impl Batches {
    fn new(n: usize, batch: usize, seed: u64) -> Self {
        Self {
            order: (0..n).collect(),
            batch,
            cursor: n,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn next(&mut self) -> Vec<i64> {
        if self.cursor + self.batch > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        let picked = &self.order[self.cursor..self.cursor + self.batch];
        self.cursor += self.batch;
        picked.iter().map(|&i| i as i64).collect()
    }
}

fn indices<B: Backend>(picked: Vec<i64>, device: &B::Device) -> Tensor<B, 1, Int> {
    let n = picked.len();
    Tensor::from_data(TensorData::new(picked, [n]), device)
}

fn line_path<B: AutodiffBackend>(
    c: &BatchSizesLesson,
    xs: &[f32],
    ys: &[f32],
    batch: usize,
    device: &B::Device,
) -> LinePath {
    let n = xs.len();
    let x = Tensor::<B, 2>::from_data(TensorData::new(xs.to_vec(), [n, 1]), device);
    let y = Tensor::<B, 2>::from_data(TensorData::new(ys.to_vec(), [n, 1]), device);
    // The same start for every batch size.
    B::seed(device, c.seed);
    let mut model: LinearRegression<B> = LinearRegressionConfig::new().init(device);
    let mut optimizer = SgdConfig::new().init();
    let mut batches = Batches::new(n, batch, c.seed);
    let at = |m: &LinearRegression<B>| (m.weights()[0], m.bias());
    let mut path = vec![at(&model)];
    for _ in 0..c.line_steps {
        let picked = indices::<B>(batches.next(), device);
        let predicted = model.forward(x.clone().select(0, picked.clone()));
        let loss = MseLoss::new().forward(predicted, y.clone().select(0, picked), Reduction::Mean);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(c.line_lr, model, grads);
        path.push(at(&model));
    }
    let loss = path.iter().map(|&(w, b)| line_loss(xs, ys, w, b)).collect();
    LinePath { batch, path, loss }
}

/// Cross-entropy over all `images`, in slices that keep memory small.
fn mnist_loss<B: Backend>(
    model: &LogisticRegression<B>,
    x: &Tensor<B, 2>,
    labels: &Tensor<B, 1, Int>,
    device: &B::Device,
) -> f32 {
    const SLICE: usize = 10_000;
    let n = x.dims()[0];
    let loss = CrossEntropyLossConfig::new().init(device);
    let mut total = 0.0f64;
    for start in (0..n).step_by(SLICE) {
        let end = (start + SLICE).min(n);
        let logits = model.forward(x.clone().narrow(0, start, end - start));
        let mean: f32 = loss
            .forward(logits, labels.clone().narrow(0, start, end - start))
            .into_scalar()
            .elem();
        total += mean as f64 * (end - start) as f64;
    }
    (total / n.max(1) as f64) as f32
}

fn mnist_run<B: AutodiffBackend>(
    c: &BatchSizesLesson,
    train: &Digits,
    images: usize,
    batch: usize,
    lr: f64,
    device: &B::Device,
) -> MnistRun {
    let pixels = &train.pixels()[..images * dlsuite_data::idx::PIXELS];
    let x: Tensor<B, 2> = ImageBatcher::flat(Kind::Mnist.normalization()).images(pixels, device);
    let labels: Vec<i64> = train.labels()[..images].iter().map(|&l| l as i64).collect();
    let labels = indices::<B>(labels, device);
    let (x_eval, labels_eval) = (x.clone().inner(), labels.clone().inner());

    B::seed(device, c.seed);
    let mut model: LogisticRegression<B> = LogisticRegressionConfig::new(dlsuite_data::idx::PIXELS)
        .with_outputs(10)
        .init(device);
    let mut optimizer = SgdConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    // Each pass over the set is a whole-set shuffle.
    let mut batches = Batches::new(images, images, c.seed);
    let mut pass = (x.clone(), labels.clone());
    let mut cursor = images;
    let budget = Duration::from_secs_f64(c.seconds);
    let max_steps = c.max_steps.unwrap_or(usize::MAX);

    let evaluate = |m: &LogisticRegression<B>, step, trained: Duration| LossPoint {
        step,
        seconds: trained.as_secs_f64(),
        loss: mnist_loss(&m.valid(), &x_eval, &labels_eval, device),
    };
    let mut points = vec![evaluate(&model, 0, Duration::ZERO)];
    let mut trained = Duration::ZERO;
    let (mut step, mut next_eval) = (0usize, 1usize);
    while trained < budget && step < max_steps {
        let started = Instant::now();
        // Train up to the next evaluation or until the time is spent.
        while step < next_eval.min(max_steps) && trained + started.elapsed() < budget {
            let (xb, yb) = if batch == images {
                (x.clone(), labels.clone())
            } else {
                // One gather a pass, then contiguous slices: cheaper than a
                // gather a step.
                if cursor + batch > images {
                    let order = indices::<B>(batches.next(), device);
                    pass = (
                        x.clone().select(0, order.clone()),
                        labels.clone().select(0, order),
                    );
                    cursor = 0;
                }
                cursor += batch;
                (
                    pass.0.clone().narrow(0, cursor - batch, batch),
                    pass.1.clone().narrow(0, cursor - batch, batch),
                )
            };
            let loss = loss_fn.forward(model.forward(xb), yb);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            step += 1;
        }
        // Work queued on a device counts when it is done, not when queued.
        let _ = B::sync(device);
        trained += started.elapsed();
        points.push(evaluate(&model, step, trained));
        if step == next_eval {
            next_eval = ((next_eval as f64 * EVAL_GROWTH).ceil() as usize).max(next_eval + 1);
        }
    }
    MnistRun { batch, lr, points }
}

/// The names of the three, for tables and legends.
fn name(batch: usize, whole: usize) -> String {
    match batch {
        1 => "stochastic (1)".into(),
        b if b == whole => format!("full batch ({b})"),
        b => format!("mini-batch ({b})"),
    }
}

impl BatchSizes {
    /// The largest step number at which every MNIST run was evaluated, and
    /// each run's loss there.
    pub fn at_equal_steps(&self) -> Option<(usize, Vec<f32>)> {
        let first = self.mnist.first()?;
        first
            .points
            .iter()
            .rev()
            .filter(|p| p.step > 0)
            .find_map(|p| {
                let losses: Option<Vec<f32>> =
                    self.mnist.iter().map(|r| r.at_step(p.step)).collect();
                Some((p.step, losses?))
            })
    }

    fn mnist_name(&self, i: usize) -> String {
        name(self.mnist[i].batch, self.mnist_images)
    }
}

impl Lesson for BatchSizes {
    fn headline(&self) -> String {
        let line: Vec<String> = self
            .line
            .iter()
            .map(|p| {
                format!(
                    "{} path {:.2}× straight, loss rose at {} of {} steps",
                    name(p.batch, self.xs.len()),
                    p.wander(),
                    p.rises(),
                    p.path.len() - 1
                )
            })
            .collect();
        let steps = self
            .at_equal_steps()
            .map_or(String::new(), |(step, losses)| {
                let each: Vec<String> = losses
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("{} {l:.3}", self.mnist_name(i)))
                    .collect();
                format!("after {step} steps: {}", each.join(", "))
            });
        let timed: Vec<String> = (0..self.mnist.len())
            .map(|i| {
                let last = self.mnist[i].last();
                format!(
                    "{} {:.3} ({} steps)",
                    self.mnist_name(i),
                    last.loss,
                    last.step
                )
            })
            .collect();
        let seconds = self
            .mnist
            .iter()
            .map(|r| r.last().seconds)
            .fold(0.0, f64::max);
        format!(
            "line: {}; MNIST softmax training loss {steps}; after {seconds:.0} s each: {}",
            line.join("; "),
            timed.join(", ")
        )
    }

    /// Full batch's loss falls at every step (on the line) and at every
    /// evaluation (on MNIST); on the line the paths wander more the fewer
    /// examples a step sees; on MNIST, step for step, one-example steps do
    /// worst, and second for second, mini-batches do best.
    fn as_lectured(&self) -> bool {
        let [sgd, mini, full] = &self.line[..] else {
            return false;
        };
        let line = full.rises() == 0
            && mini.rises() > 0
            && full.wander() < mini.wander()
            && mini.wander() < sgd.wander();
        let steps = self
            .at_equal_steps()
            .is_some_and(|(_, l)| l.len() == 3 && l[0] > l[1] && l[0] > l[2]);
        let smooth = self.mnist.get(2).is_some_and(|full| {
            full.points.len() > 2 && full.points.windows(2).all(|w| w[1].loss < w[0].loss)
        });
        let timed: Vec<f32> = self.mnist.iter().map(|r| r.last().loss).collect();
        let seconds = timed.len() == 3 && timed[1] < timed[0] && timed[1] < timed[2];
        line && smooth && steps && seconds
    }

    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let paths = dir.join("batch-paths.png");
        let all = || self.line.iter().flat_map(|p| p.path.iter().copied());
        let span = |f: fn((f32, f32)) -> f32| {
            let (lo, hi) = all()
                .map(f)
                .fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let pad = (hi - lo).max(0.1) * 0.1;
            (lo - pad, hi + pad)
        };
        let (wx, by) = (span(|p| p.0), span(|p| p.1));
        const CELLS: usize = 80;
        let mut loss = Vec::with_capacity(CELLS * CELLS);
        for row in 0..CELLS {
            for col in 0..CELLS {
                let w = wx.0 + (wx.1 - wx.0) * (col as f32 + 0.5) / CELLS as f32;
                let b = by.0 + (by.1 - by.0) * (row as f32 + 0.5) / CELLS as f32;
                loss.push(line_loss(&self.xs, &self.ys, w, b));
            }
        }
        let curves: Vec<Curve> = self
            .line
            .iter()
            .map(|p| Curve {
                label: name(p.batch, self.xs.len()),
                points: p.path.clone(),
            })
            .collect();
        paths_on_surface(
            &paths,
            &format!(
                "Fitting y = 0.1x + 0.3: (w, b) over {} steps by batch size",
                self.line.first().map_or(0, |p| p.path.len() - 1)
            ),
            &Surface {
                x: wx,
                y: by,
                resolution: CELLS,
                loss,
            },
            &curves,
        )?;

        let losses = dir.join("batch-loss.png");
        let line_curves = self
            .line
            .iter()
            .map(|p| Curve {
                label: name(p.batch, self.xs.len()),
                points: p
                    .loss
                    .iter()
                    .enumerate()
                    .map(|(s, &l)| (s as f32, l.max(1e-12).log10()))
                    .collect(),
            })
            .collect();
        let mnist_curves = |x: fn(&LossPoint) -> f32| -> Vec<Curve> {
            (0..self.mnist.len())
                .map(|i| Curve {
                    label: format!("{}, lr {}", self.mnist_name(i), self.mnist[i].lr),
                    points: self.mnist[i]
                        .points
                        .iter()
                        .map(|p| (x(p), p.loss))
                        .collect(),
                })
                .collect()
        };
        let panel = |title: &str, x_desc: &str, y_desc: &str, curves| FunctionPanel {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            curves,
            mark: None,
        };
        function_panels(
            &losses,
            "Training loss by batch size",
            &[
                panel("the line", "step", "log10(mean squared error)", line_curves),
                panel(
                    "MNIST softmax regression, per step",
                    "log10(step + 1)",
                    "training loss",
                    mnist_curves(|p| ((p.step + 1) as f32).log10()),
                ),
                panel(
                    "MNIST softmax regression, per second",
                    "seconds of training",
                    "training loss",
                    mnist_curves(|p| p.seconds as f32),
                ),
            ],
        )?;
        Ok(vec![paths, losses])
    }
}
