use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Embedding, EmbeddingConfig, LeakyRelu, LeakyReluConfig, Linear,
    LinearConfig, PaddingConfig2d, Relu,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Digits a conditional GAN can be asked for.
pub const CLASSES: usize = 10;
/// Image side and pixel count: the nets are drawn for 28×28 images.
const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;
/// Widths of the fully connected generator's hidden layers; the
/// discriminator has them the other way round.
const DENSE_HIDDEN: [usize; 2] = [256, 512];
/// Channels of the convolutional nets at 14×14 and at 7×7: a DCGAN's shape
/// at a width two CPU cores train in minutes per epoch.
const CONV_CHANNELS: [usize; 2] = [16, 32];
/// The side after two stride-2 steps: 28 → 14 → 7.
const CONV_SIDE: usize = SIDE / 4;
/// LeakyReLU's slope below zero, as in the DCGAN paper.
const LEAK: f64 = 0.2;

/// Which generator and discriminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// The classic GAN: noise → 256 → 512 → 784 (tanh); image → 512 → 256 → 1.
    Dense,
    /// DCGAN-style: noise → 32 maps of 7×7 → two transposed stride-2
    /// convolutions with batch norm; the discriminator two stride-2
    /// convolutions and a linear layer.
    Conv,
}

#[derive(Config, Debug, PartialEq)]
pub struct GanConfig {
    pub layout: Layout,
    /// Width of the noise vector the generator draws from.
    #[config(default = 64)]
    pub latent: usize,
    /// Both nets are told the digit: a conditional GAN. The generator reads
    /// it one-hot beside the noise; the discriminator by projection (its
    /// logit gains the inner product of a learned embedding of the digit
    /// with its last features, Miyato and Koyama's projection
    /// discriminator), which ties its verdict to the digit far more
    /// directly than ten inputs beside 784 pixels do.
    #[config(default = false)]
    pub conditional: bool,
}

/// The fully connected generator: LeakyReLU between layers, tanh out so
/// that pixels land in [-1, 1].
#[derive(Module, Debug)]
pub struct DenseGenerator<B: Backend> {
    pub layers: Vec<Linear<B>>,
    pub activation: LeakyRelu,
    /// Width of the noise.
    pub latent: usize,
    /// 10 when told the digit, else 0.
    pub classes: usize,
}

/// The fully connected discriminator: one logit per image, "real" above 0.
#[derive(Module, Debug)]
pub struct DenseDiscriminator<B: Backend> {
    pub layers: Vec<Linear<B>>,
    pub activation: LeakyRelu,
    /// Conditional only: each digit's vector in the space of the last
    /// hidden layer.
    pub project: Option<Embedding<B>>,
}

/// The DCGAN-style generator: ReLU and batch norm inside, tanh out.
#[derive(Module, Debug)]
pub struct ConvGenerator<B: Backend> {
    pub project: Linear<B>,
    pub norm0: BatchNorm<B>,
    pub deconv1: ConvTranspose2d<B>,
    pub norm1: BatchNorm<B>,
    pub deconv2: ConvTranspose2d<B>,
    pub activation: Relu,
    pub latent: usize,
    pub classes: usize,
}

/// The DCGAN-style discriminator: LeakyReLU, batch norm after the second
/// convolution (not the first, as the paper has it).
#[derive(Module, Debug)]
pub struct ConvDiscriminator<B: Backend> {
    pub conv1: Conv2d<B>,
    pub conv2: Conv2d<B>,
    pub norm: BatchNorm<B>,
    pub head: Linear<B>,
    pub activation: LeakyRelu,
    /// Conditional only: each digit's vector in the space of the features.
    pub project: Option<Embedding<B>>,
}

// Built once per run and never moved in a loop: boxing the larger variant
// would only make the modules' records harder to read.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Generator<B: Backend> {
    Dense(DenseGenerator<B>),
    Conv(ConvGenerator<B>),
}

#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Discriminator<B: Backend> {
    Dense(DenseDiscriminator<B>),
    Conv(ConvDiscriminator<B>),
}

impl GanConfig {
    /// One-hot digits beside the generator's noise: 10 for a conditional GAN,
    /// else 0.
    pub fn classes(&self) -> usize {
        if self.conditional {
            CLASSES
        } else {
            0
        }
    }

    pub fn init_generator<B: Backend>(&self, device: &B::Device) -> Generator<B> {
        let (latent, classes) = (self.latent.max(1), self.classes());
        let input = latent + classes;
        let linear = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        match self.layout {
            Layout::Dense => {
                let widths = [input, DENSE_HIDDEN[0], DENSE_HIDDEN[1], PIXELS];
                Generator::Dense(DenseGenerator {
                    layers: widths.windows(2).map(|w| linear(w[0], w[1])).collect(),
                    activation: LeakyReluConfig::new().with_negative_slope(LEAK).init(),
                    latent,
                    classes,
                })
            }
            Layout::Conv => {
                let [c1, c2] = CONV_CHANNELS;
                // Stride 2 with one pixel of output padding exactly doubles the side.
                let up = |i: usize, o: usize| {
                    ConvTranspose2dConfig::new([i, o], [3, 3])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_padding_out([1, 1])
                        .init(device)
                };
                Generator::Conv(ConvGenerator {
                    project: linear(input, c2 * CONV_SIDE * CONV_SIDE),
                    norm0: BatchNormConfig::new(c2).init(device),
                    deconv1: up(c2, c1),
                    norm1: BatchNormConfig::new(c1).init(device),
                    deconv2: up(c1, 1),
                    activation: Relu::new(),
                    latent,
                    classes,
                })
            }
        }
    }

    pub fn init_discriminator<B: Backend>(&self, device: &B::Device) -> Discriminator<B> {
        let linear = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        let activation = LeakyReluConfig::new().with_negative_slope(LEAK).init();
        let project = |width: usize| {
            self.conditional
                .then(|| EmbeddingConfig::new(CLASSES, width).init(device))
        };
        match self.layout {
            Layout::Dense => {
                let widths = [PIXELS, DENSE_HIDDEN[1], DENSE_HIDDEN[0], 1];
                Discriminator::Dense(DenseDiscriminator {
                    layers: widths.windows(2).map(|w| linear(w[0], w[1])).collect(),
                    activation,
                    project: project(DENSE_HIDDEN[0]),
                })
            }
            Layout::Conv => {
                let [c1, c2] = CONV_CHANNELS;
                let down = |i: usize, o: usize| {
                    Conv2dConfig::new([i, o], [3, 3])
                        .with_stride([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(device)
                };
                Discriminator::Conv(ConvDiscriminator {
                    conv1: down(1, c1),
                    conv2: down(c1, c2),
                    norm: BatchNormConfig::new(c2).init(device),
                    head: linear(c2 * CONV_SIDE * CONV_SIDE, 1),
                    activation,
                    project: project(c2 * CONV_SIDE * CONV_SIDE),
                })
            }
        }
    }
}

/// `[batch, width]` beside the digits' one-hot codes: `[batch, width + 10]`;
/// unchanged when no digits are given.
fn with_digits<B: Backend>(x: Tensor<B, 2>, digits: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
    match digits {
        Some(d) => Tensor::cat(vec![x, d.one_hot::<2>(CLASSES).float()], 1),
        None => x,
    }
}

impl<B: Backend> DenseGenerator<B> {
    /// `[batch, latent (+10)] → [batch, 784]`, in [-1, 1].
    pub fn forward(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut x = z;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.forward(x);
            }
        }
        x.tanh()
    }
}

impl<B: Backend> DenseDiscriminator<B> {
    /// `[batch, 784]` (and `[batch]` digits) `→ [batch, 512] → [batch, 256]
    /// → [batch, 1]`: logits.
    pub fn forward(&self, x: Tensor<B, 2>, digits: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let (hidden, head) = self.layers.split_at(self.layers.len() - 1);
        let mut x = x;
        for layer in hidden {
            x = self.activation.forward(layer.forward(x));
        }
        with_projection(head[0].forward(x.clone()), x, &self.project, digits)
    }
}

/// `logits` (`[batch, 1]`) plus, for a conditional net told `digits`, the
/// inner product of each digit's embedding with its `features`
/// (`[batch, width]`).
fn with_projection<B: Backend>(
    logits: Tensor<B, 2>,
    features: Tensor<B, 2>,
    project: &Option<Embedding<B>>,
    digits: Option<Tensor<B, 1, Int>>,
) -> Tensor<B, 2> {
    match (project, digits) {
        (Some(embedding), Some(digits)) => {
            let [batch, width] = features.dims();
            let vectors = embedding
                .forward(digits.unsqueeze_dim(1))
                .reshape([batch, width]);
            logits + (vectors * features).sum_dim(1)
        }
        _ => logits,
    }
}

impl<B: Backend> ConvGenerator<B> {
    /// `[batch, latent (+10)] → [batch, 32, 7, 7] → [batch, 16, 14, 14] →
    /// [batch, 1, 28, 28]`, in [-1, 1].
    pub fn forward(&self, z: Tensor<B, 2>) -> Tensor<B, 4> {
        let batch = z.dims()[0];
        let x = self
            .project
            .forward(z)
            .reshape([batch, CONV_CHANNELS[1], CONV_SIDE, CONV_SIDE]);
        let x = self.activation.forward(self.norm0.forward(x));
        let x = self
            .activation
            .forward(self.norm1.forward(self.deconv1.forward(x)));
        self.deconv2.forward(x).tanh()
    }
}

impl<B: Backend> ConvDiscriminator<B> {
    /// `[batch, 1, 28, 28]` (and `[batch]` digits) `→ [batch, 16, 14, 14] →
    /// [batch, 32, 7, 7] → [batch, 1568] → [batch, 1]`: logits.
    pub fn forward(&self, images: Tensor<B, 4>, digits: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let x = self.activation.forward(self.conv1.forward(images));
        let x = self
            .activation
            .forward(self.norm.forward(self.conv2.forward(x)));
        let features = x.flatten(1, 3);
        with_projection(
            self.head.forward(features.clone()),
            features,
            &self.project,
            digits,
        )
    }
}

impl<B: Backend> Generator<B> {
    /// `[batch, latent]` noise (and `[batch]` digits for a conditional GAN)
    /// `→ [batch, 1, 28, 28]`, pixels in [-1, 1].
    pub fn forward(&self, z: Tensor<B, 2>, digits: Option<Tensor<B, 1, Int>>) -> Tensor<B, 4> {
        let batch = z.dims()[0];
        let z = with_digits(z, digits.filter(|_| self.is_conditional()));
        match self {
            Generator::Dense(net) => net.forward(z).reshape([batch, 1, SIDE, SIDE]),
            Generator::Conv(net) => net.forward(z),
        }
    }

    /// The width of the noise it draws from.
    pub fn latent(&self) -> usize {
        match self {
            Generator::Dense(net) => net.latent,
            Generator::Conv(net) => net.latent,
        }
    }

    /// Whether it draws the digit it is told.
    pub fn is_conditional(&self) -> bool {
        match self {
            Generator::Dense(net) => net.classes > 0,
            Generator::Conv(net) => net.classes > 0,
        }
    }
}

impl<B: Backend> Discriminator<B> {
    /// `[batch, 1, 28, 28]` images, pixels in [-1, 1] (and `[batch]` digits
    /// for a conditional GAN) `→ [batch]`: the logit of "real".
    pub fn forward(&self, images: Tensor<B, 4>, digits: Option<Tensor<B, 1, Int>>) -> Tensor<B, 1> {
        let digits = digits.filter(|_| self.is_conditional());
        let logits = match self {
            Discriminator::Dense(net) => net.forward(images.flatten(1, 3), digits),
            Discriminator::Conv(net) => net.forward(images, digits),
        };
        logits.flatten(0, 1)
    }

    /// Whether it judges an image together with the digit it should show.
    pub fn is_conditional(&self) -> bool {
        match self {
            Discriminator::Dense(net) => net.project.is_some(),
            Discriminator::Conv(net) => net.project.is_some(),
        }
    }
}
