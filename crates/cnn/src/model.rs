use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// How a convolution treats the image's border.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: a k×k kernel shrinks each side by k − 1.
    #[default]
    Valid,
    /// Zeros around the image, so that the output keeps its height and width.
    Same,
}

/// One convolution, then optional batch norm, ReLU, optional 2×2 max-pool
/// and dropout.
#[derive(Config, Debug, PartialEq)]
pub struct ConvBlockConfig {
    pub channels: usize,
    #[config(default = 3)]
    pub kernel: usize,
    #[config(default = "Padding::Valid")]
    pub padding: Padding,
    #[config(default = false)]
    pub batch_norm: bool,
    /// A 2×2 max-pool with stride 2 (odd sides are floored).
    #[config(default = false)]
    pub pool: bool,
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// Convolutional blocks, then fully connected layers with ReLU and dropout,
/// then a linear layer to the class scores.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    pub blocks: Vec<ConvBlockConfig>,
    /// Widths of the hidden fully connected layers.
    pub dense: Vec<usize>,
    #[config(default = 10)]
    pub classes: usize,
    #[config(default = 0.0)]
    pub dense_dropout: f64,
    /// Input side, in pixels (square, one channel).
    #[config(default = 28)]
    pub side: usize,
}

/// `conv → batch norm? → ReLU → max-pool? → dropout`.
#[derive(Module, Debug)]
pub struct ConvBlock<B: Backend> {
    pub conv: Conv2d<B>,
    pub norm: Option<BatchNorm<B>>,
    pub activation: Relu,
    pub pool: Option<MaxPool2d>,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    pub blocks: Vec<ConvBlock<B>>,
    pub dense: Vec<Linear<B>>,
    pub activation: Relu,
    pub dropout: Dropout,
    pub output: Linear<B>,
}

impl CnnConfig {
    /// LeNet-5 in modern dress: two 5×5 convolutions with pooling, then
    /// 120 and 84 units.
    pub fn lenet() -> Self {
        Self::new(
            vec![
                ConvBlockConfig::new(6)
                    .with_kernel(5)
                    .with_padding(Padding::Same)
                    .with_pool(true),
                ConvBlockConfig::new(16).with_kernel(5).with_pool(true),
            ],
            vec![120, 84],
        )
    }

    /// The reference network of the speed comparisons (PyTorch's MNIST
    /// example): conv 32, conv 64, max-pool, dropout 0.25, fc 128, dropout 0.5.
    pub fn reference() -> Self {
        Self::new(
            vec![
                ConvBlockConfig::new(32),
                ConvBlockConfig::new(64).with_pool(true).with_dropout(0.25),
            ],
            vec![128],
        )
        .with_dense_dropout(0.5)
    }

    /// The lecture's deep CNN: three same-padded 3×3 convolutions of 32, 64
    /// and 128 channels, each pooled, then 625 units; dropout throughout.
    pub fn deep() -> Self {
        let block = |c| {
            ConvBlockConfig::new(c)
                .with_padding(Padding::Same)
                .with_pool(true)
                .with_dropout(0.3)
        };
        Self::new(vec![block(32), block(64), block(128)], vec![625]).with_dense_dropout(0.5)
    }

    /// [`CnnConfig::deep`] with batch norm after every convolution.
    pub fn deep_batch_norm() -> Self {
        let mut config = Self::deep();
        for block in &mut config.blocks {
            block.batch_norm = true;
        }
        config
    }

    /// Height (= width) of each block's output, first block first; `None`
    /// once a kernel is larger than the maps it is applied to.
    pub fn sides(&self) -> Option<Vec<usize>> {
        let mut side = self.side;
        let mut sides = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            if b.padding == Padding::Valid {
                side = (side + 1).checked_sub(b.kernel)?;
            }
            if b.pool {
                side /= 2;
            }
            if side == 0 {
                return None;
            }
            sides.push(side);
        }
        Some(sides)
    }

    /// Number of inputs to the first fully connected layer (0 when the
    /// blocks do not fit the image: see [`CnnConfig::sides`]).
    pub fn flat_features(&self) -> usize {
        let channels = self.blocks.last().map_or(1, |b| b.channels);
        let side = match self.sides() {
            Some(sides) => sides.last().copied().unwrap_or(self.side),
            None => 0,
        };
        channels * side * side
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> Cnn<B> {
        let mut in_channels = 1;
        let blocks = self
            .blocks
            .iter()
            .map(|b| {
                let padding = match b.padding {
                    Padding::Valid => PaddingConfig2d::Valid,
                    Padding::Same => PaddingConfig2d::Same,
                };
                let block = ConvBlock {
                    conv: Conv2dConfig::new([in_channels, b.channels], [b.kernel, b.kernel])
                        .with_padding(padding)
                        .init(device),
                    norm: b
                        .batch_norm
                        .then(|| BatchNormConfig::new(b.channels).init(device)),
                    activation: Relu::new(),
                    pool: b
                        .pool
                        .then(|| MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
                    dropout: DropoutConfig::new(b.dropout).init(),
                };
                in_channels = b.channels;
                block
            })
            .collect();
        let mut fan_in = self.flat_features();
        let dense = self
            .dense
            .iter()
            .map(|&width| {
                let layer = LinearConfig::new(fan_in, width).init(device);
                fan_in = width;
                layer
            })
            .collect();
        Cnn {
            blocks,
            dense,
            activation: Relu::new(),
            dropout: DropoutConfig::new(self.dense_dropout).init(),
            output: LinearConfig::new(fan_in, self.classes).init(device),
        }
    }
}

impl<B: Backend> ConvBlock<B> {
    /// `[batch, c_in, h, w] → [batch, c_out, h', w']`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = self.conv.forward(x);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        let x = self.activation.forward(x);
        let x = match &self.pool {
            Some(pool) => pool.forward(x),
            None => x,
        };
        self.dropout.forward(x)
    }
}

impl<B: Backend> Cnn<B> {
    /// `[batch, 1, side, side] → [batch, classes]`: logits, no softmax.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let maps = self.blocks.iter().fold(images, |x, b| b.forward(x));
        // [batch, channels, h, w] → [batch, channels·h·w]
        let x = maps.flatten(1, 3);
        let x = self.dense.iter().fold(x, |x, layer| {
            self.dropout
                .forward(self.activation.forward(layer.forward(x)))
        });
        self.output.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn presets_produce_ten_logits_per_image() {
        let device = Default::default();
        for (config, flat) in [
            (CnnConfig::lenet(), 16 * 5 * 5),
            (CnnConfig::reference(), 64 * 12 * 12),
            (CnnConfig::deep(), 128 * 3 * 3),
            (CnnConfig::deep_batch_norm(), 128 * 3 * 3),
        ] {
            assert_eq!(config.flat_features(), flat);
            let net = config.init::<NdArray>(&device);
            let out = net.forward(Tensor::zeros([2, 1, 28, 28], &device));
            assert_eq!(out.dims(), [2, 10]);
        }
    }

    #[test]
    fn the_lectures_deep_cnn_has_no_batch_norm() {
        assert!(CnnConfig::deep().blocks.iter().all(|b| !b.batch_norm));
        assert!(CnnConfig::deep_batch_norm()
            .blocks
            .iter()
            .all(|b| b.batch_norm));
        let net = CnnConfig::deep().init::<NdArray>(&Default::default());
        assert!(net.blocks.iter().all(|b| b.norm.is_none()));
    }

    #[test]
    fn blocks_too_large_for_the_image_have_no_sides() {
        let config = CnnConfig::new(vec![ConvBlockConfig::new(4).with_kernel(29)], vec![]);
        assert_eq!(config.sides(), None);
        assert_eq!(config.flat_features(), 0);
        // Four pools halve 28 to 1; a fifth leaves nothing.
        let pooled = |n| {
            CnnConfig::new(
                vec![
                    ConvBlockConfig::new(2)
                        .with_padding(Padding::Same)
                        .with_pool(true);
                    n
                ],
                vec![],
            )
        };
        assert_eq!(pooled(4).sides(), Some(vec![14, 7, 3, 1]));
        assert_eq!(pooled(5).sides(), None);
    }

    #[test]
    fn reference_net_has_the_pytorch_parameter_count() {
        // 320 + 18,496 + 1,179,776 + 1,290, as torch reports for the same net.
        let net = CnnConfig::reference().init::<NdArray>(&Default::default());
        assert_eq!(net.num_params(), 1_199_882);
    }
}
