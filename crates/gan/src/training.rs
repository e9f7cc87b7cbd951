use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::activation::softplus;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::{ImageBatcher, Normalization};

use crate::inference::latent_noise;
use crate::model::{Discriminator, Generator};

/// Batches of `[batch, 1, 28, 28]` with pixels scaled to [-1, 1]: the range
/// of the generator's tanh, so real and drawn images differ in shape only.
pub fn gan_batcher() -> ImageBatcher<4> {
    ImageBatcher::grid(Normalization {
        mean: 0.5,
        std: 0.5,
    })
}

/// Adam as the DCGAN paper tunes it for GANs: β₁ = 0.5, since a momentum
/// of 0.9 lets the two nets overshoot each other.
pub fn adam() -> AdamConfig {
    AdamConfig::new().with_beta_1(0.5)
}

/// The discriminator's loss: binary cross-entropy of "real" on real images
/// and of "fake" on drawn ones, `softplus(-real) + softplus(fake)` in logits.
fn discriminator_loss<B: Backend>(real: Tensor<B, 1>, fake: Tensor<B, 1>) -> Tensor<B, 1> {
    softplus(real.neg(), 1.0).mean() + softplus(fake, 1.0).mean()
}

/// The generator's loss, the non-saturating one: `-log D(G(z))`. It pushes
/// hardest while the discriminator still sees through the fakes.
fn generator_loss<B: Backend>(fake: Tensor<B, 1>) -> Tensor<B, 1> {
    softplus(fake.neg(), 1.0).mean()
}

/// The share of logits on the right side of zero.
fn share_above<B: Backend>(logits: Tensor<B, 1>, real: bool) -> Tensor<B, 1> {
    let right = if real {
        logits.greater_elem(0.0)
    } else {
        logits.lower_equal_elem(0.0)
    };
    right.float().mean()
}

/// Both losses and the discriminator's accuracy on one batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GanLosses {
    pub discriminator: f64,
    pub generator: f64,
    /// Share of real images the discriminator calls real.
    pub real_accuracy: f64,
    /// Share of drawn images it calls fake.
    pub fake_accuracy: f64,
}

/// An epoch's means over its steps (each step's figures taken before its
/// updates).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochStats {
    pub steps: usize,
    pub discriminator_loss: f64,
    pub generator_loss: f64,
    pub real_accuracy: f64,
    pub fake_accuracy: f64,
}

/// The two nets, their optimizers, and the sums of an epoch's figures,
/// kept on the device and read once per epoch.
pub struct GanTrainer<B: AutodiffBackend, OG, OD> {
    pub generator: Generator<B>,
    pub discriminator: Discriminator<B>,
    generator_optimizer: OG,
    discriminator_optimizer: OD,
    lr: f64,
    sums: Option<Tensor<B::InnerBackend, 1>>,
    steps: usize,
}

impl<B, OG, OD> GanTrainer<B, OG, OD>
where
    B: AutodiffBackend,
    OG: Optimizer<Generator<B>, B>,
    OD: Optimizer<Discriminator<B>, B>,
{
    pub fn new(
        generator: Generator<B>,
        discriminator: Discriminator<B>,
        generator_optimizer: OG,
        discriminator_optimizer: OD,
        lr: f64,
    ) -> Self {
        Self {
            generator,
            discriminator,
            generator_optimizer,
            discriminator_optimizer,
            lr,
            sums: None,
            steps: 0,
        }
    }

    /// One round of the game on a batch of real images (and their digits,
    /// which a conditional GAN draws too): the discriminator learns from
    /// the real images and freshly drawn ones, then the generator learns
    /// to fool the updated discriminator with the same drawings.
    pub fn step(&mut self, real: Tensor<B, 4>, digits: Tensor<B, 1, Int>) {
        let device = real.device();
        let z = latent_noise::<B>(real.dims()[0], self.generator.latent(), &device);
        let digits = Some(digits).filter(|_| self.generator.is_conditional());
        let fake = self.generator.forward(z, digits.clone());
        let judged = self.update_discriminator(real, fake.clone().detach(), digits.clone());
        let fooled = self.update_generator(fake, digits);
        let figures = Tensor::cat(vec![judged, fooled], 0);
        self.sums = Some(match self.sums.take() {
            Some(sums) => sums + figures,
            None => figures,
        });
        self.steps += 1;
    }

    /// One update of the discriminator alone, on real images and those the
    /// generator draws from `z`: `[loss, real accuracy, fake accuracy]`
    /// before the update.
    pub fn train_discriminator(
        &mut self,
        real: Tensor<B, 4>,
        z: Tensor<B, 2>,
        digits: Option<Tensor<B, 1, Int>>,
    ) -> Tensor<B::InnerBackend, 1> {
        let fake = self.generator.forward(z, digits.clone()).detach();
        self.update_discriminator(real, fake, digits)
    }

    /// One update of the generator alone, against the discriminator as it
    /// stands: `[loss]` before the update.
    pub fn train_generator(
        &mut self,
        z: Tensor<B, 2>,
        digits: Option<Tensor<B, 1, Int>>,
    ) -> Tensor<B::InnerBackend, 1> {
        let fake = self.generator.forward(z, digits.clone());
        self.update_generator(fake, digits)
    }

    fn update_discriminator(
        &mut self,
        real: Tensor<B, 4>,
        fake: Tensor<B, 4>,
        digits: Option<Tensor<B, 1, Int>>,
    ) -> Tensor<B::InnerBackend, 1> {
        let on_real = self.discriminator.forward(real, digits.clone());
        let on_fake = self.discriminator.forward(fake, digits);
        let loss = discriminator_loss(on_real.clone(), on_fake.clone());
        let figures = Tensor::cat(
            vec![
                loss.clone().detach().inner(),
                share_above(on_real.inner(), true),
                share_above(on_fake.inner(), false),
            ],
            0,
        );
        let grads = GradientsParams::from_grads(loss.backward(), &self.discriminator);
        // Modules are handles to their tensors: the clone is cheap.
        self.discriminator =
            self.discriminator_optimizer
                .step(self.lr, self.discriminator.clone(), grads);
        figures
    }

    fn update_generator(
        &mut self,
        fake: Tensor<B, 4>,
        digits: Option<Tensor<B, 1, Int>>,
    ) -> Tensor<B::InnerBackend, 1> {
        let loss = generator_loss(self.discriminator.forward(fake, digits));
        let figure = loss.clone().detach().inner();
        // The discriminator's gradients are computed on the way and dropped:
        // only the generator's parameters are taken.
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self
            .generator_optimizer
            .step(self.lr, self.generator.clone(), grads);
        figure
    }

    /// The losses and accuracies on a batch without training: what the
    /// discriminator says of `real` and of what the generator draws from `z`.
    pub fn losses(
        &self,
        real: Tensor<B, 4>,
        z: Tensor<B, 2>,
        digits: Option<Tensor<B, 1, Int>>,
    ) -> GanLosses {
        let on_real = self.discriminator.forward(real, digits.clone()).detach();
        let fake = self.generator.forward(z, digits.clone()).detach();
        let on_fake = self.discriminator.forward(fake, digits).detach();
        let read = |t: Tensor<B, 1>| t.into_scalar().elem::<f64>();
        GanLosses {
            discriminator: read(discriminator_loss(on_real.clone(), on_fake.clone())),
            generator: read(generator_loss(on_fake.clone())),
            real_accuracy: read(share_above(on_real, true)),
            fake_accuracy: read(share_above(on_fake, false)),
        }
    }

    /// The means of the steps since the last call, read from the device
    /// once; `None` before any step.
    pub fn take_epoch(&mut self) -> Option<EpochStats> {
        let sums = self.sums.take()?;
        let steps = std::mem::take(&mut self.steps);
        let values: Vec<f64> = sums.into_data().convert::<f64>().to_vec().ok()?;
        let mean = |i: usize| values.get(i).map_or(f64::NAN, |v| v / steps as f64);
        Some(EpochStats {
            steps,
            discriminator_loss: mean(0),
            real_accuracy: mean(1),
            fake_accuracy: mean(2),
            generator_loss: mean(3),
        })
    }
}
