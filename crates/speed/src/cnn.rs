//! The CNN as the CPU backends run it fastest.
//!
//! Feature maps travel as [`PixelRows`] from the first block to the last,
//! which hands the dense layers their flattened input directly. A block
//! without batch norm is one host operation ([`crate::conv_block`]); one
//! with batch norm is a convolution on pixel rows, Burn's batch norm on
//! those rows, and pooling by a host-found maximum. Without autodiff
//! (inference) large batches go through in slices, whose receptive fields
//! fit in cache-sized buffers.

use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use dlsuite_cnn::{Cnn, ConvBlock};

use crate::conv_block::{block_flat, block_rows};
use crate::dropout::dropout_on_host;
use crate::geometry::is_plain;
use crate::host::OnHost;
use crate::mlp::linear;
use crate::pixel_rows::{self, PixelRows};
use crate::Linears;

/// Images per slice when classifying a large batch: about 85 MB of
/// receptive fields for the reference net's second convolution.
pub(crate) const INFERENCE_SLICE: usize = 128;

/// `[batch, 1, side, side] → [batch, classes]`: `net.forward(images)`
/// computed on the host as the module doc says, the dense layers as
/// `linears` says, dropout masks drawn on the host. Nets whose blocks it
/// does not cover (strided or dilated convolutions) run Burn's blocks.
pub fn cnn_on_host<B: OnHost>(
    net: &Cnn<B>,
    images: Tensor<B, 4>,
    linears: Linears,
) -> Tensor<B, 2> {
    let training = B::ad_enabled(&images.device());
    if !training && images.dims()[0] > INFERENCE_SLICE {
        let logits = images
            .split(INFERENCE_SLICE, 0)
            .into_iter()
            .map(|slice| cnn_on_host(net, slice, linears))
            .collect();
        return Tensor::cat(logits, 0);
    }
    let x = match net.blocks.split_last() {
        Some((last, first)) if net.blocks.iter().all(covered) => {
            let x = PixelRows::from_images(images);
            let x = first.iter().fold(x, |x, block| block_on_rows(block, x));
            last_block_on_rows(last, x)
        }
        _ => net
            .blocks
            .iter()
            .fold(images, |x, block| block.forward(x))
            .flatten(1, 3),
    };
    let x = net.dense.iter().fold(x, |x, layer| {
        let x = net.activation.forward(linear(layer, x, linears));
        dropout_on_host(&net.dropout, x)
    });
    linear(&net.output, x, linears)
}

/// `block.forward` on pixel rows.
fn block_on_rows<B: OnHost>(block: &ConvBlock<B>, x: PixelRows<B>) -> PixelRows<B> {
    let pool = block.pool.is_some();
    let x = match &block.norm {
        None => block_rows(&block.conv, &x, pool),
        Some(norm) => {
            let x = pixel_rows::conv2d(&block.conv, x).map(|rows| norm.forward(rows));
            let x = if pool { pixel_rows::max_pool2x2(x) } else { x };
            x.map(|rows| block.activation.forward(rows))
        }
    };
    x.map(|rows| dropout_on_host(&block.dropout, rows))
}

/// [`block_on_rows`] for the last block: `[batch, features]` in the order
/// of the flattened `[batch, channels, height, width]` maps, as the dense
/// layers read them.
fn last_block_on_rows<B: OnHost>(block: &ConvBlock<B>, x: PixelRows<B>) -> Tensor<B, 2> {
    let pool = block.pool.is_some();
    let x = match &block.norm {
        None => block_flat(&block.conv, &x, pool),
        Some(norm) => {
            let x = pixel_rows::conv2d(&block.conv, x).map(|rows| norm.forward(rows));
            let x = if pool {
                pixel_rows::max_pool2x2_flat(x)
            } else {
                x.into_images().flatten(1, 3)
            };
            block.activation.forward(x)
        }
    };
    dropout_on_host(&block.dropout, x)
}

/// Whether the host paths compute `block`: a stride-1 convolution and, if
/// any, a 2×2 pool of stride 2.
fn covered<B: Backend>(block: &ConvBlock<B>) -> bool {
    let pool_2x2 = block.pool.as_ref().is_none_or(|pool| {
        pool.kernel_size == [2, 2]
            && pool.stride == [2, 2]
            && pool.dilation == [1, 1]
            && matches!(pool.padding, PaddingConfig2d::Valid)
            && !pool.ceil_mode
    });
    is_plain(&block.conv) && pool_2x2
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::module::AutodiffModule;
    use burn::tensor::backend::AutodiffBackend;
    use burn::tensor::{Distribution, Tolerance};
    use dlsuite_cnn::{CnnConfig, ConvBlockConfig, Padding};

    /// A small net with batch norm in two blocks, padded and unpadded
    /// convolutions and an odd side to pool.
    fn mixed_config() -> CnnConfig {
        CnnConfig::new(
            vec![
                ConvBlockConfig::new(4)
                    .with_padding(Padding::Same)
                    .with_batch_norm(true)
                    .with_pool(true),
                // 14 → 11 with a 4×4 kernel: an odd side to pool.
                ConvBlockConfig::new(6).with_kernel(4).with_pool(true),
                ConvBlockConfig::new(5)
                    .with_padding(Padding::Same)
                    .with_batch_norm(true)
                    .with_pool(true),
            ],
            vec![7],
        )
    }

    type Forward<'a, B> = dyn Fn(&Cnn<B>, Tensor<B, 4>) -> Tensor<B, 2> + 'a;

    /// The host paths compute the plain net's logits and gradients, with
    /// either kind of dense layer: LeNet (5×5, padded and not, no batch
    /// norm) and a net that mixes blocks with and without batch norm.
    fn host_paths_agree<B>()
    where
        B: AutodiffBackend + OnHost,
        B::InnerBackend: OnHost,
    {
        let device = Default::default();
        let images = Tensor::<B, 4>::random([3, 1, 28, 28], Distribution::Default, &device);
        for config in [CnnConfig::lenet(), mixed_config()] {
            let net: Cnn<B> = config.init(&device);
            let run = |forward: &Forward<'_, B>| {
                let logits = forward(&net, images.clone());
                let grads = logits.clone().powi_scalar(2).sum().backward();
                let first = &net.blocks[0].conv.weight;
                let last = &net.blocks.last().unwrap().conv.weight;
                [
                    logits.into_data(),
                    first.grad(&grads).unwrap().into_data(),
                    last.grad(&grads).unwrap().into_data(),
                    net.output.weight.grad(&grads).unwrap().into_data(),
                ]
            };
            let plain = run(&|net, x| net.forward(x));
            let tol = Tolerance::<f32>::rel_abs(1e-3, 1e-4);
            for linears in [Linears::Burn, Linears::Host] {
                let host = run(&|net, x| cnn_on_host(net, x, linears));
                for (p, h) in plain.iter().zip(&host) {
                    p.assert_approx_eq(h, tol);
                }
            }
        }
    }

    #[test]
    fn host_paths_agree_on_ndarray() {
        host_paths_agree::<Autodiff<NdArray>>();
    }

    #[test]
    fn host_paths_agree_on_flex() {
        host_paths_agree::<Autodiff<Flex>>();
    }

    /// Without autodiff, the host paths classify as the plain net does,
    /// batch norm's running statistics included, also for a batch that is
    /// cut into slices.
    #[test]
    fn host_paths_classify_as_the_plain_net_does() {
        type B = Autodiff<NdArray>;
        let device = Default::default();
        let images = Tensor::<NdArray, 4>::random(
            [INFERENCE_SLICE + 3, 1, 28, 28],
            Distribution::Default,
            &device,
        );
        // A training step first, so that batch norm's running statistics
        // are not the initial ones.
        let net: Cnn<B> = mixed_config().init(&device);
        let _ = cnn_on_host(&net, Tensor::from_inner(images.clone()), Linears::Burn)
            .sum()
            .backward();
        let net = net.valid();
        let plain = net.forward(images.clone());
        let host = cnn_on_host(&net, images, Linears::Host);
        assert_eq!(host.dims(), [INFERENCE_SLICE + 3, 10]);
        plain
            .into_data()
            .assert_approx_eq::<f32>(&host.into_data(), Tolerance::rel_abs(1e-3, 1e-4));
    }
}
