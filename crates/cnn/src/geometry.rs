//! What the training-time rewrites of a convolution ([`crate::im2col`],
//! [`crate::pixel_rows`]) need to know about its shape.

use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
use burn::prelude::*;

/// Stride 1, no dilation, one group: the convolutions the rewrites cover.
pub fn is_plain<B: Backend>(conv: &Conv2d<B>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::nn::conv::Conv2dConfig;

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
