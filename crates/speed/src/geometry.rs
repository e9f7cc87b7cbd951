//! What the host paths of a convolution ([`crate::pixel_rows`],
//! [`crate::conv_block`]) need to know about its shape.

use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
use burn::prelude::*;

/// Stride 1, no dilation, one group: the convolutions the host paths cover.
pub(crate) fn is_plain<B: Backend>(conv: &Conv2d<B>) -> bool {
    conv.stride == [1, 1] && conv.dilation == [1, 1] && conv.groups == 1
}

/// `(top, left, bottom, right)` zero rows and columns around the image, at
/// stride 1. `Same` puts an odd remainder at the bottom and right, as Burn's
/// convolution does (`PaddingConfig2d`'s own helper is private to burn-nn).
pub(crate) fn padding<B: Backend>(conv: &Conv2d<B>) -> (usize, usize, usize, usize) {
    match conv.padding {
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        PaddingConfig2d::Same => {
            let [kh, kw] = conv.kernel_size;
            let (top, left) = ((kh - 1) / 2, (kw - 1) / 2);
            (top, left, kh - 1 - top, kw - 1 - left)
        }
        PaddingConfig2d::Explicit(top, left, bottom, right) => (top, left, bottom, right),
    }
}

/// A weighted sum of every value, so that each output position gets its
/// own gradient when tests compare backward passes.
#[cfg(test)]
pub(crate) fn weighted_sum<B: Backend, const D: usize>(y: Tensor<B, D>) -> Tensor<B, 1> {
    let device = y.device();
    let weights = Tensor::<B, 1, Int>::arange(0..y.shape().num_elements() as i64, &device)
        .float()
        .reshape(y.dims())
        .div_scalar(100.0)
        .sin();
    (y * weights).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel_rows::{self, PixelRows};
    use burn::backend::{Autodiff, NdArray};
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Distribution, Tolerance};

    type B = Autodiff<NdArray>;
    type Rewrite = fn(&Conv2d<B>, Tensor<B, 4>) -> Tensor<B, 4>;

    /// Pixel rows give the same output, input gradient and weight and bias
    /// gradients as `Conv2d::forward`, with and without padding, for a
    /// non-square kernel, on one input channel and on several.
    #[test]
    fn rewrites_match_burns_convolution_and_its_gradients() {
        let device = Default::default();
        B::seed(&device, 7);
        let rewrites: [(&str, Rewrite); 1] = [("pixel rows", |conv, x| {
            pixel_rows::conv2d(conv, PixelRows::from_images(x)).into_images()
        })];
        let paddings = [
            PaddingConfig2d::Valid,
            PaddingConfig2d::Same,
            PaddingConfig2d::Explicit(1, 0, 2, 1),
        ];
        for (c_in, padding) in [1, 3]
            .into_iter()
            .flat_map(|c| paddings.clone().map(|p| (c, p)))
        {
            let conv: Conv2d<B> = Conv2dConfig::new([c_in, 5], [3, 2])
                .with_padding(padding.clone())
                .init(&device);
            let x = Tensor::<B, 4>::random([2, c_in, 9, 8], Distribution::Default, &device);
            let run = |forward: Rewrite| {
                let x = x.clone().require_grad();
                let y = forward(&conv, x.clone());
                let grads = weighted_sum(y.clone()).backward();
                let bias = conv.bias.as_ref().unwrap();
                [
                    y.into_data(),
                    x.grad(&grads).unwrap().into_data(),
                    conv.weight.grad(&grads).unwrap().into_data(),
                    bias.grad(&grads).unwrap().into_data(),
                ]
            };
            let native = run(|conv, x| conv.forward(x));
            for (name, rewrite) in rewrites {
                println!("{name}, {c_in} channels, {padding:?}");
                // Sums of up to a few hundred products, in another order.
                let tol = Tolerance::<f32>::rel_abs(1e-4, 1e-4);
                for (expected, got) in native.iter().zip(run(rewrite)) {
                    expected.assert_approx_eq(&got, tol);
                }
            }
        }
    }

    #[test]
    fn only_plain_convolutions_are_covered() {
        let device = Default::default();
        let plain: Conv2d<NdArray> = Conv2dConfig::new([1, 2], [3, 3]).init(&device);
        let strided: Conv2d<NdArray> = Conv2dConfig::new([1, 2], [3, 3])
            .with_stride([2, 2])
            .init(&device);
        assert!(is_plain(&plain));
        assert!(!is_plain(&strided));
    }
}
