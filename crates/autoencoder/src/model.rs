use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use serde::{Deserialize, Serialize};

/// Image side and pixel count: the nets are drawn for 28×28 images.
const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;
/// Widths of the fully connected encoder's hidden layers (the decoder
/// mirrors them).
const DENSE_HIDDEN: [usize; 2] = [512, 128];
/// Channels after the convolutional encoder's two stride-2 convolutions.
const CONV_CHANNELS: [usize; 2] = [16, 32];
/// The side after two stride-2 convolutions: 28 → 14 → 7.
const CONV_SIDE: usize = SIDE / 4;

/// Which encoder and decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// 784 → 512 → 128 → code, and back the same way.
    Dense,
    /// Two stride-2 convolutions to 32 maps of 7×7, a linear layer to the
    /// code; back through a linear layer and two transposed convolutions.
    Conv,
}

#[derive(Config, Debug, PartialEq)]
pub struct AutoencoderConfig {
    pub layout: Layout,
    /// Width of the code each image is squeezed into.
    #[config(default = 2)]
    pub code: usize,
}

/// The fully connected autoencoder: ReLU between layers, a linear code,
/// a sigmoid on the output so that pixels land in [0, 1].
#[derive(Module, Debug)]
pub struct DenseAutoencoder<B: Backend> {
    pub encoder: Vec<Linear<B>>,
    pub decoder: Vec<Linear<B>>,
    pub activation: Relu,
}

/// The convolutional autoencoder.
#[derive(Module, Debug)]
pub struct ConvAutoencoder<B: Backend> {
    pub conv1: Conv2d<B>,
    pub conv2: Conv2d<B>,
    pub to_code: Linear<B>,
    pub from_code: Linear<B>,
    pub deconv1: ConvTranspose2d<B>,
    pub deconv2: ConvTranspose2d<B>,
    pub activation: Relu,
}

/// Either net, as an experiment file chooses it.
// Built once per run and never moved in a loop: boxing the larger variant
// would only make the module's record harder to read.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Autoencoder<B: Backend> {
    Dense(DenseAutoencoder<B>),
    Conv(ConvAutoencoder<B>),
}

impl AutoencoderConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Autoencoder<B> {
        let code = self.code.max(1);
        match self.layout {
            Layout::Dense => {
                let widths = [PIXELS, DENSE_HIDDEN[0], DENSE_HIDDEN[1], code];
                let linear = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
                Autoencoder::Dense(DenseAutoencoder {
                    encoder: widths.windows(2).map(|w| linear(w[0], w[1])).collect(),
                    decoder: widths
                        .windows(2)
                        .rev()
                        .map(|w| linear(w[1], w[0]))
                        .collect(),
                    activation: Relu::new(),
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
                // Stride 2 with one pixel of output padding exactly doubles the side.
                let up = |i: usize, o: usize| {
                    ConvTranspose2dConfig::new([i, o], [3, 3])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_padding_out([1, 1])
                        .init(device)
                };
                let maps = c2 * CONV_SIDE * CONV_SIDE;
                Autoencoder::Conv(ConvAutoencoder {
                    conv1: down(1, c1),
                    conv2: down(c1, c2),
                    to_code: LinearConfig::new(maps, code).init(device),
                    from_code: LinearConfig::new(code, maps).init(device),
                    deconv1: up(c2, c1),
                    deconv2: up(c1, 1),
                    activation: Relu::new(),
                })
            }
        }
    }
}

impl<B: Backend> DenseAutoencoder<B> {
    /// `[batch, 784] → [batch, code]`.
    pub fn encode(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.encoder.len() - 1;
        let mut x = x;
        for (i, layer) in self.encoder.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.forward(x);
            }
        }
        x
    }

    /// `[batch, code] → [batch, 784]`, in [0, 1].
    pub fn decode(&self, code: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.decoder.len() - 1;
        let mut x = code;
        for (i, layer) in self.decoder.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.forward(x);
            }
        }
        sigmoid(x)
    }
}

impl<B: Backend> ConvAutoencoder<B> {
    /// `[batch, 1, 28, 28] → [batch, 16, 14, 14] → [batch, 32, 7, 7] →
    /// [batch, code]`.
    pub fn encode(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.activation.forward(self.conv1.forward(images));
        let x = self.activation.forward(self.conv2.forward(x));
        self.to_code.forward(x.flatten(1, 3))
    }

    /// `[batch, code] → [batch, 32, 7, 7] → [batch, 16, 14, 14] →
    /// [batch, 1, 28, 28]`, in [0, 1].
    pub fn decode(&self, code: Tensor<B, 2>) -> Tensor<B, 4> {
        let batch = code.dims()[0];
        let x = self.activation.forward(self.from_code.forward(code));
        let x = x.reshape([batch, CONV_CHANNELS[1], CONV_SIDE, CONV_SIDE]);
        let x = self.activation.forward(self.deconv1.forward(x));
        sigmoid(self.deconv2.forward(x))
    }
}

impl<B: Backend> Autoencoder<B> {
    /// `[batch, 1, 28, 28]` (pixels in [0, 1]) `→ [batch, code]`.
    pub fn encode(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Autoencoder::Dense(net) => net.encode(images.flatten(1, 3)),
            Autoencoder::Conv(net) => net.encode(images),
        }
    }

    /// `[batch, code] → [batch, 1, 28, 28]`, pixels in [0, 1].
    pub fn decode(&self, code: Tensor<B, 2>) -> Tensor<B, 4> {
        let batch = code.dims()[0];
        match self {
            Autoencoder::Dense(net) => net.decode(code).reshape([batch, 1, SIDE, SIDE]),
            Autoencoder::Conv(net) => net.decode(code),
        }
    }

    /// `[batch, 1, 28, 28] → [batch, 1, 28, 28]`: each image drawn back from its code.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        self.decode(self.encode(images))
    }

    /// The width of the code.
    pub fn code_width(&self) -> usize {
        match self {
            Autoencoder::Dense(net) => net.encoder.last().map_or(0, |l| l.weight.dims()[1]),
            Autoencoder::Conv(net) => net.to_code.weight.dims()[1],
        }
    }
}
