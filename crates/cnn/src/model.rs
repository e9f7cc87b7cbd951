use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use dlsuite_nn::{forward_linear, Dropout, DropoutConfig};

use crate::geometry::is_plain;
use crate::host_block;
use crate::im2col::conv2d_im2col;
use crate::pixel_rows::{self, PixelRows};

/// How the convolutional blocks compute while training. All give the same
/// results up to float rounding; which is fastest depends on the backend.
/// Inference uses the backend's own layers, except with `PixelRows` and
/// `Host`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConvTraining {
    /// The backend's convolution and pooling: GPUs have tuned kernels.
    #[default]
    Backend,
    /// Convolutions as stacked shifted images times the weights
    /// ([`crate::im2col`]): for a backend whose convolution backward is a
    /// direct loop and whose row gathers are slow (ndarray, before `Host`).
    Im2col,
    /// Whole blocks on one row per pixel ([`crate::pixel_rows`]): for a
    /// backend whose row gathers are fast (flex, before `Host`).
    PixelRows,
    /// As `PixelRows`, with each block without batch norm (convolution,
    /// ReLU, pooling) one operation computed on the host
    /// (`host_block.rs`): the CPU backends. Backends it does not cover
    /// compose those blocks as `PixelRows` does.
    Host,
}

/// Images per slice when [`ConvTraining::PixelRows`] (or `Host`, for
/// blocks with batch norm) classifies a large batch: about 85 MB of
/// receptive fields for the reference net's second convolution, and as
/// fast as whole batches of 1000.
const INFERENCE_SLICE: usize = 128;

/// One convolution, then optional batch norm, ReLU, optional 2×2 max-pool
/// and dropout.
#[derive(Config, Debug)]
pub struct ConvBlockConfig {
    pub channels: usize,
    #[config(default = 3)]
    pub kernel: usize,
    /// Pad so that the output keeps the input's height and width.
    #[config(default = false)]
    pub same_padding: bool,
    #[config(default = false)]
    pub pool: bool,
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// Convolutional blocks, then fully connected layers with ReLU and dropout,
/// then a linear layer to the class scores.
#[derive(Config, Debug)]
pub struct CnnConfig {
    pub blocks: Vec<ConvBlockConfig>,
    /// Widths of the hidden fully connected layers.
    pub dense: Vec<usize>,
    #[config(default = 10)]
    pub classes: usize,
    #[config(default = 0.0)]
    pub dense_dropout: f64,
    #[config(default = false)]
    pub batch_norm: bool,
    /// Input side, in pixels (square, one channel).
    #[config(default = 28)]
    pub side: usize,
}

#[derive(Module, Debug)]
pub struct ConvBlock<B: Backend> {
    conv: Conv2d<B>,
    norm: Option<BatchNorm<B>>,
    pool: Option<MaxPool2d>,
    dropout: Dropout,
    activation: Relu,
}

#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    blocks: Vec<ConvBlock<B>>,
    dense: Vec<Linear<B>>,
    output: Linear<B>,
    dropout: Dropout,
    activation: Relu,
    /// See [`Cnn::with_conv_training`].
    #[module(skip)]
    conv_training: ConvTraining,
    /// See [`Cnn::with_host_linears`].
    #[module(skip)]
    host_linears: bool,
}

impl CnnConfig {
    /// LeNet-5 in modern dress: two 5×5 convolutions with pooling, then
    /// 120 and 84 units.
    pub fn lenet() -> Self {
        Self::new(
            vec![
                ConvBlockConfig::new(6)
                    .with_kernel(5)
                    .with_same_padding(true)
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
                .with_same_padding(true)
                .with_pool(true)
                .with_dropout(0.3)
        };
        Self::new(vec![block(32), block(64), block(128)], vec![625])
            .with_dense_dropout(0.5)
            .with_batch_norm(true)
    }

    /// Height (= width) of the feature maps after the blocks.
    fn final_side(&self) -> usize {
        self.blocks.iter().fold(self.side, |side, b| {
            let side = if b.same_padding {
                side
            } else {
                side.saturating_sub(b.kernel - 1)
            };
            // Max-pool 2×2 with stride 2 floors odd sides.
            if b.pool {
                side / 2
            } else {
                side
            }
        })
    }

    /// Number of inputs to the first fully connected layer.
    pub fn flat_features(&self) -> usize {
        let channels = self.blocks.last().map_or(1, |b| b.channels);
        channels * self.final_side().pow(2)
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> Cnn<B> {
        let mut in_channels = 1;
        let blocks = self
            .blocks
            .iter()
            .map(|b| {
                let padding = if b.same_padding {
                    PaddingConfig2d::Same
                } else {
                    PaddingConfig2d::Valid
                };
                let block = ConvBlock {
                    conv: Conv2dConfig::new([in_channels, b.channels], [b.kernel, b.kernel])
                        .with_padding(padding)
                        .init(device),
                    norm: self
                        .batch_norm
                        .then(|| BatchNormConfig::new(b.channels).init(device)),
                    pool: b
                        .pool
                        .then(|| MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
                    dropout: DropoutConfig::new(b.dropout).init(),
                    activation: Relu::new(),
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
            output: LinearConfig::new(fan_in, self.classes).init(device),
            dropout: DropoutConfig::new(self.dense_dropout).init(),
            activation: Relu::new(),
            conv_training: ConvTraining::Backend,
            host_linears: false,
        }
    }
}

impl<B: Backend> ConvBlock<B> {
    /// `[batch, c_in, h, w] → [batch, c_out, h', w']`; `im2col` computes the
    /// convolution with [`conv2d_im2col`].
    ///
    /// ReLU comes after the pooling: the maximum of rectified values is the
    /// rectified maximum, gradients included, and there are a quarter as
    /// many values to rectify.
    pub fn forward(&self, x: Tensor<B, 4>, im2col: bool) -> Tensor<B, 4> {
        let x = if im2col && is_plain(&self.conv) {
            conv2d_im2col(&self.conv, x)
        } else {
            self.conv.forward(x)
        };
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        let x = match &self.pool {
            Some(pool) => pool.forward(x),
            None => x,
        };
        self.dropout.forward(self.activation.forward(x))
    }

    /// The same as [`ConvBlock::forward`], on feature maps stored as
    /// [`PixelRows`]; `host` computes it with `host_block` where that
    /// covers the block and the backend.
    pub fn forward_rows(&self, x: PixelRows<B>, host: bool) -> PixelRows<B> {
        if let Some(x) = self
            .host_covers(host)
            .then(|| host_block::block_rows(&self.conv, &x, self.pool.is_some()))
            .flatten()
        {
            return x.map(|rows| self.dropout.forward(rows));
        }
        let x = self.conv_rows(x);
        let x = if self.pool.is_some() {
            pixel_rows::max_pool2x2(x)
        } else {
            x
        };
        x.map(|rows| self.dropout.forward(self.activation.forward(rows)))
    }

    /// [`ConvBlock::forward_rows`] for the last block: `[batch, features]`
    /// in the order of the flattened `[batch, channels, height, width]`
    /// maps, as the dense layers read them.
    pub fn forward_rows_flat(&self, x: PixelRows<B>, host: bool) -> Tensor<B, 2> {
        if let Some(x) = self
            .host_covers(host)
            .then(|| host_block::block_flat(&self.conv, &x, self.pool.is_some()))
            .flatten()
        {
            return self.dropout.forward(x);
        }
        let x = self.conv_rows(x);
        let x = if self.pool.is_some() {
            pixel_rows::max_pool2x2_flat(x)
        } else {
            x.into_images().flatten(1, 3)
        };
        self.dropout.forward(self.activation.forward(x))
    }

    /// The convolution and batch norm of [`ConvBlock::forward_rows`].
    fn conv_rows(&self, x: PixelRows<B>) -> PixelRows<B> {
        let x = pixel_rows::conv2d(&self.conv, x);
        match &self.norm {
            Some(norm) => x.map(|rows| norm.forward(rows)),
            None => x,
        }
    }

    /// Whether `host_block` may compute this block: asked to, and no
    /// batch norm between the convolution and the ReLU.
    fn host_covers(&self, host: bool) -> bool {
        host && self.norm.is_none()
    }

    /// Whether [`ConvBlock::forward_rows`] computes this block.
    fn supports_rows(&self) -> bool {
        let pool_2x2 = self.pool.as_ref().is_none_or(|pool| {
            pool.kernel_size == [2, 2]
                && pool.stride == [2, 2]
                && pool.dilation == [1, 1]
                && matches!(pool.padding, PaddingConfig2d::Valid)
                && !pool.ceil_mode
        });
        is_plain(&self.conv) && pool_2x2
    }
}

impl<B: Backend> Cnn<B> {
    /// How to compute the convolutional blocks while training (autodiff
    /// on); see [`ConvTraining`]. Not saved with the model: it is how to run
    /// it, not what it is.
    pub fn with_conv_training(mut self, how: ConvTraining) -> Self {
        self.conv_training = how;
        self
    }

    /// Compute the fully connected layers as host operations
    /// ([`dlsuite_nn::linear_on_host`]): the same values, faster on flex.
    pub fn with_host_linears(mut self, on: bool) -> Self {
        self.host_linears = on;
        self
    }

    /// Draw dropout masks on the host: faster on the CPU, see
    /// [`Dropout::with_host_masks`].
    pub fn with_host_dropout_masks(mut self, on: bool) -> Self {
        for block in &mut self.blocks {
            block.dropout = block.dropout.clone().with_host_masks(on);
        }
        self.dropout = self.dropout.clone().with_host_masks(on);
        self
    }

    /// `[batch, 1, side, side] → [batch, classes]`: logits, no softmax.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let training = B::ad_enabled(&images.device());
        let how = match self.conv_training {
            // Pixel rows also classify faster than flex's own convolution
            // (1,380 against 1,170 images/s at batch 1000); their receptive
            // fields take 0.66 MB an image, so large batches go through in
            // slices.
            how @ (ConvTraining::PixelRows | ConvTraining::Host) if !training => {
                if images.dims()[0] > INFERENCE_SLICE {
                    let logits = images
                        .split(INFERENCE_SLICE, 0)
                        .into_iter()
                        .map(|slice| self.forward(slice))
                        .collect();
                    return Tensor::cat(logits, 0);
                }
                how
            }
            how if training => how,
            _ => ConvTraining::Backend,
        };
        let x: Tensor<B, 2> = match (how, self.blocks.split_last()) {
            (ConvTraining::PixelRows | ConvTraining::Host, Some((last, first)))
                if self.blocks.iter().all(ConvBlock::supports_rows) =>
            {
                let host = how == ConvTraining::Host;
                let x = PixelRows::from_images(images);
                let x = first.iter().fold(x, |x, b| b.forward_rows(x, host));
                last.forward_rows_flat(x, host)
            }
            (how, _) => {
                let im2col = how == ConvTraining::Im2col;
                self.blocks
                    .iter()
                    .fold(images, |x, b| b.forward(x, im2col))
                    .flatten(1, 3)
            }
        };
        let host = self.host_linears;
        let x = self.dense.iter().fold(x, |x, layer| {
            let x = forward_linear(layer, x, host);
            self.dropout.forward(self.activation.forward(x))
        });
        forward_linear(&self.output, x, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::AutodiffModule;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn presets_produce_ten_logits_per_image() {
        let device = Default::default();
        for (config, flat) in [
            (CnnConfig::lenet(), 16 * 5 * 5),
            (CnnConfig::reference(), 64 * 12 * 12),
            (CnnConfig::deep(), 128 * 3 * 3),
        ] {
            assert_eq!(config.flat_features(), flat);
            let net = config.init::<NdArray>(&device);
            let out = net.forward(Tensor::zeros([2, 1, 28, 28], &device));
            assert_eq!(out.dims(), [2, 10]);
        }
    }

    /// A small net with batch norm, padded and unpadded convolutions and an
    /// odd side to pool.
    fn normed_config() -> CnnConfig {
        CnnConfig::new(
            vec![
                ConvBlockConfig::new(4)
                    .with_same_padding(true)
                    .with_pool(true),
                // 14 → 11 with a 4×4 kernel: an odd side to pool.
                ConvBlockConfig::new(6).with_kernel(4).with_pool(true),
                ConvBlockConfig::new(5)
                    .with_same_padding(true)
                    .with_pool(true),
            ],
            vec![7],
        )
        .with_batch_norm(true)
    }

    /// Every [`ConvTraining`] computes the same logits and gradients (host
    /// blocks also with host linears): padded and unpadded 3×3, 4×4 and 5×5
    /// convolutions, batch norm, odd-sided pooling.
    #[test]
    fn every_way_of_training_convolutions_agrees() {
        type B = Autodiff<NdArray>;
        let device = Default::default();
        B::seed(&device, 3);
        let lenet = CnnConfig::lenet();
        let normed = normed_config();
        let images = Tensor::<B, 4>::random([3, 1, 28, 28], Distribution::Default, &device);
        for config in [lenet, normed] {
            let net: Cnn<B> = config.init(&device);
            // Parameters are drawn on first use; draw them before cloning.
            let _ = net.forward(images.clone());
            let run = |how: ConvTraining, host_linears: bool| {
                let net = net
                    .clone()
                    .with_conv_training(how)
                    .with_host_linears(host_linears);
                let logits = net.forward(images.clone());
                let grads = logits.clone().powi_scalar(2).sum().backward();
                let first = &net.blocks[0].conv.weight;
                let last = &net.blocks.last().unwrap().conv.weight;
                (
                    logits.into_data(),
                    first.grad(&grads).unwrap().into_data(),
                    last.grad(&grads).unwrap().into_data(),
                )
            };
            let backend = run(ConvTraining::Backend, false);
            let tol = Tolerance::<f32>::rel_abs(1e-3, 1e-4);
            for (how, host_linears) in [
                (ConvTraining::Im2col, false),
                (ConvTraining::PixelRows, false),
                (ConvTraining::Host, false),
                (ConvTraining::Host, true),
            ] {
                let other = run(how, host_linears);
                backend.0.assert_approx_eq(&other.0, tol);
                backend.1.assert_approx_eq(&other.1, tol);
                backend.2.assert_approx_eq(&other.2, tol);
            }
        }
    }

    /// Without autodiff, pixel rows classify as the backend's layers do,
    /// batch norm's running statistics included, also for a batch that is
    /// cut into slices.
    #[test]
    fn pixel_rows_classify_as_the_backend_does() {
        let device = Default::default();
        let config = normed_config();
        let images = Tensor::<NdArray, 4>::random(
            [INFERENCE_SLICE + 3, 1, 28, 28],
            Distribution::Default,
            &device,
        );
        // A training step first, so that batch norm's running statistics
        // are not the initial ones; the way of computing survives `valid`.
        type B = Autodiff<NdArray>;
        let net: Cnn<B> = config
            .init(&device)
            .with_conv_training(ConvTraining::PixelRows);
        let _ = net
            .forward(Tensor::from_inner(images.clone()))
            .sum()
            .backward();
        let net = net.valid();
        let backend = net
            .clone()
            .with_conv_training(ConvTraining::Backend)
            .forward(images.clone());
        let rows = net.forward(images);
        assert_eq!(rows.dims(), [INFERENCE_SLICE + 3, 10]);
        backend
            .into_data()
            .assert_approx_eq::<f32>(&rows.into_data(), Tolerance::rel_abs(1e-3, 1e-4));
    }

    #[test]
    fn reference_net_has_the_pytorch_parameter_count() {
        // 320 + 18,496 + 1,179,776 + 1,290, as torch reports for the same net.
        let net = CnnConfig::reference().init::<NdArray>(&Default::default());
        assert_eq!(net.num_params(), 1_199_882);
    }
}
