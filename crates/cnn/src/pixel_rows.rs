//! Feature maps stored one row per pixel, for training convolutions fast on
//! the CPU.
//!
//! Burn's CPU convolutions compute the backward pass with a direct loop
//! (ndarray) or a transposed convolution plus strided copies (flex); for the
//! reference CNN's second layer that is 3 s or 80 ms per batch of 64 against
//! 16 ms for the forward. Stored as `[pixels, channels]`, a convolution is a
//! gather of whole rows (each output pixel's receptive field) times the
//! weight matrix, and autodiff's backward is two matrix products and a
//! scatter-add of rows: about 45 ms on flex. Max-pooling is a gather of the
//! four window positions and a maximum over them, so that the maps stay
//! rows from the first convolution to the last pooling. On ndarray, whose
//! row gather copies one row at a time, [`crate::im2col`] is the faster
//! rewrite; `cargo run --release -p dlsuite-cnn --example layer_timing`
//! measures both.
//!
//! The weights are the [`Conv2d`]'s own, in its own layout: this is another
//! way to run the same layers, and the results match up to float rounding.

use burn::nn::conv::Conv2d;
use burn::prelude::*;

use crate::geometry::padding;

/// A batch of feature maps as `[batch·height·width, channels]`: row
/// `(b·height + y)·width + x` holds pixel `(y, x)` of image `b`.
#[derive(Debug, Clone)]
pub struct PixelRows<B: Backend> {
    pub rows: Tensor<B, 2>,
    pub batch: usize,
    pub height: usize,
    pub width: usize,
}

impl<B: Backend> PixelRows<B> {
    /// From `[batch, channels, height, width]`.
    pub fn from_images(images: Tensor<B, 4>) -> Self {
        let [batch, channels, height, width] = images.dims();
        let rows = if channels == 1 {
            // One channel: the images are already in row order.
            images.reshape([batch * height * width, 1])
        } else {
            images
                .permute([0, 2, 3, 1])
                .reshape([batch * height * width, channels])
        };
        Self {
            rows,
            batch,
            height,
            width,
        }
    }

    /// Back to `[batch, channels, height, width]`.
    pub fn into_images(self) -> Tensor<B, 4> {
        let channels = self.channels();
        self.rows
            .reshape([self.batch, self.height, self.width, channels])
            .permute([0, 3, 1, 2])
    }

    pub fn channels(&self) -> usize {
        self.rows.dims()[1]
    }

    /// The same pixels with new values per row (an element-wise function or
    /// a per-channel normalisation).
    pub fn map(self, f: impl FnOnce(Tensor<B, 2>) -> Tensor<B, 2>) -> Self {
        Self {
            rows: f(self.rows),
            ..self
        }
    }
}

/// The same as `conv.forward` on the images, for a convolution that
/// [`crate::geometry::is_plain`].
pub fn conv2d<B: Backend>(conv: &Conv2d<B>, x: PixelRows<B>) -> PixelRows<B> {
    let (top, left, bottom, right) = padding(conv);
    let weight = conv.weight.val();
    let [c_out, c_in, kh, kw] = weight.dims();
    let (height, width) = (x.height, x.width);
    let out_h = (height + top + bottom + 1).saturating_sub(kh);
    let out_w = (width + left + right + 1).saturating_sub(kw);
    let pixels = x.rows.dims()[0];
    let device = x.rows.device();

    // Padding positions read an all-zero row appended after the pixels.
    let zero_row = pixels as i64;
    let source = if top + bottom + left + right > 0 {
        Tensor::cat(vec![x.rows, Tensor::zeros([1, c_in], &device)], 0)
    } else {
        x.rows
    };
    let mut index = Vec::with_capacity(x.batch * out_h * out_w * kh * kw);
    for b in 0..x.batch {
        for oy in 0..out_h {
            for ox in 0..out_w {
                for ky in 0..kh {
                    for kx in 0..kw {
                        // The input pixel under this kernel position.
                        let (iy, ix) = (
                            (oy + ky) as i64 - top as i64,
                            (ox + kx) as i64 - left as i64,
                        );
                        index.push(
                            if iy < 0 || ix < 0 || iy >= height as i64 || ix >= width as i64 {
                                zero_row
                            } else {
                                ((b * height) as i64 + iy) * width as i64 + ix
                            },
                        );
                    }
                }
            }
        }
    }
    let len = index.len();
    let index = Tensor::<B, 1, Int>::from_data(TensorData::new(index, [len]), &device);
    // One row per output pixel: its receptive field, ordered (ky, kx, c_in).
    let patches = source
        .select(0, index)
        .reshape([x.batch * out_h * out_w, kh * kw * c_in]);
    let weight = weight
        .permute([2, 3, 1, 0])
        .reshape([kh * kw * c_in, c_out]);
    let rows = patches.matmul(weight);
    let rows = match &conv.bias {
        Some(bias) => rows + bias.val().unsqueeze_dim(0),
        None => rows,
    };
    PixelRows {
        rows,
        batch: x.batch,
        height: out_h,
        width: out_w,
    }
}

/// Max-pool 2×2 with stride 2; odd sides lose their last row or column, as
/// with Burn's `MaxPool2d` without padding.
pub fn max_pool2x2<B: Backend>(x: PixelRows<B>) -> PixelRows<B> {
    let (out_h, out_w) = (x.height / 2, x.width / 2);
    let channels = x.channels();
    let windows = x.batch * out_h * out_w;
    let mut index = Vec::with_capacity(4 * windows);
    for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        for b in 0..x.batch {
            for py in 0..out_h {
                for px in 0..out_w {
                    let (iy, ix) = (2 * py + dy, 2 * px + dx);
                    index.push(((b * x.height + iy) * x.width + ix) as i64);
                }
            }
        }
    }
    let device = x.rows.device();
    let index = Tensor::<B, 1, Int>::from_data(TensorData::new(index, [4 * windows]), &device);
    // [4, windows·channels]: one contiguous block per position in the
    // window. One maximum over the four rather than three pairwise ones:
    // its backward scatters the gradient once, where each pair's slices
    // would each build a zero gradient of all four blocks.
    let rows = x
        .rows
        .select(0, index)
        .reshape([4, windows * channels])
        .max_dim(0)
        .reshape([windows, channels]);
    PixelRows {
        rows,
        batch: x.batch,
        height: out_h,
        width: out_w,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::weighted_sum;
    use burn::backend::{Autodiff, NdArray};
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;

    type B = Autodiff<NdArray>;

    #[test]
    fn images_survive_the_round_trip() {
        let device = Default::default();
        let x = Tensor::<NdArray, 4>::random([2, 3, 5, 4], Distribution::Default, &device);
        let rows = PixelRows::from_images(x.clone());
        assert_eq!(rows.rows.dims(), [2 * 5 * 4, 3]);
        // Row (b·5 + y)·4 + x, column c is pixel (b, c, y, x).
        let pixel: Vec<f32> = rows
            .rows
            .clone()
            .slice([27..28, 0..3])
            .into_data()
            .to_vec()
            .unwrap();
        let column: Vec<f32> = x
            .clone()
            .slice([1..2, 0..3, 1..2, 3..4])
            .into_data()
            .to_vec()
            .unwrap();
        assert_eq!(pixel, column);
        rows.into_images()
            .into_data()
            .assert_eq(&x.into_data(), true);
    }

    #[test]
    fn pooling_matches_burns_and_so_does_its_gradient() {
        let device = Default::default();
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        // Odd sides: the last row and column are dropped.
        for [h, w] in [[6, 4], [7, 5]] {
            let x = Tensor::<B, 4>::random([2, 3, h, w], Distribution::Default, &device);
            let run = |native: bool| {
                let x = x.clone().require_grad();
                let y = if native {
                    pool.forward(x.clone())
                } else {
                    max_pool2x2(PixelRows::from_images(x.clone())).into_images()
                };
                let grads = weighted_sum(y.clone()).backward();
                (y.into_data(), x.grad(&grads).unwrap().into_data())
            };
            let (native, rows) = (run(true), run(false));
            native.0.assert_eq(&rows.0, true);
            native.1.assert_eq(&rows.1, true);
        }
    }
}
