//! Feature maps stored one row per pixel, for training convolutions fast on
//! the CPU.
//!
//! Burn's CPU convolutions compute the backward pass with a direct loop
//! (ndarray) or a transposed convolution plus strided copies (flex), far
//! slower than their forward pass. Stored as `[pixels, channels]`, a
//! convolution is a gather of whole rows (each output pixel's receptive
//! field) times the weight matrix, and autodiff's backward is two matrix
//! products and a scatter-add of rows. Max-pooling picks each window's
//! maximum, found on the host, with one gather of values, so that the maps
//! stay rows from the first convolution to the last pooling, which hands
//! the dense layers their flattened input directly. Blocks without batch
//! norm run faster still as one host operation ([`crate::conv_block`]),
//! which keeps these maps as its input and output; blocks with batch norm
//! use the functions here.
//!
//! The weights are the [`Conv2d`]'s own, in its own layout: this is another
//! way to run the same layers, and the results match up to float rounding.

use burn::nn::conv::Conv2d;
use burn::prelude::*;
use rayon::prelude::*;

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
    let padded = top + bottom + left + right > 0;

    // The same in every image: for each output pixel and kernel position
    // (ky, kx), the input pixel read, `None` in the padding.
    let mut field = Vec::with_capacity(out_h * out_w * kh * kw);
    for oy in 0..out_h {
        for ox in 0..out_w {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (iy, ix) = ((oy + ky).checked_sub(top), (ox + kx).checked_sub(left));
                    field.push(match (iy, ix) {
                        (Some(iy), Some(ix)) if iy < height && ix < width => Some(iy * width + ix),
                        _ => None,
                    });
                }
            }
        }
    }
    let image_pixels = height * width;
    // One row per output pixel: its receptive field, ordered (ky, kx, c_in).
    let patches = if c_in == 1 {
        // One value per pixel: gathering values image by image is far
        // cheaper on the CPU backends than selecting one-value rows.
        // Padding reads a zero appended to each image.
        let zero = image_pixels as i64;
        let index: Vec<i64> = (0..x.batch)
            .flat_map(|_| field.iter().map(|p| p.map_or(zero, |p| p as i64)))
            .collect();
        let index =
            Tensor::<B, 2, Int>::from_data(TensorData::new(index, [x.batch, field.len()]), &device);
        let images = x.rows.reshape([x.batch, image_pixels]);
        let source = if padded {
            Tensor::cat(vec![images, Tensor::zeros([x.batch, 1], &device)], 1)
        } else {
            images
        };
        source.gather(1, index)
    } else {
        // Padding reads an all-zero row appended after the pixels.
        let zero = pixels as i64;
        let index: Vec<i64> = (0..x.batch)
            .flat_map(|b| {
                let first = b * image_pixels;
                field
                    .iter()
                    .map(move |p| p.map_or(zero, |p| (first + p) as i64))
            })
            .collect();
        let len = index.len();
        let index = Tensor::<B, 1, Int>::from_data(TensorData::new(index, [len]), &device);
        let source = if padded {
            Tensor::cat(vec![x.rows, Tensor::zeros([1, c_in], &device)], 0)
        } else {
            x.rows
        };
        source.select(0, index)
    }
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
    let (batch, out_h, out_w) = (x.batch, x.height / 2, x.width / 2);
    let channels = x.channels();
    let rows =
        pick_window_maxima(x, PooledOrder::PixelRows).reshape([batch * out_h * out_w, channels]);
    PixelRows {
        rows,
        batch,
        height: out_h,
        width: out_w,
    }
}

/// [`max_pool2x2`] straight into `[batch, channels·height'·width']`, in the
/// order of `into_images().flatten(1, 3)`: what the dense layers after the
/// last block read, without a transposing copy of the maps.
pub fn max_pool2x2_flat<B: Backend>(x: PixelRows<B>) -> Tensor<B, 2> {
    pick_window_maxima(x, PooledOrder::ChannelMajor)
}

/// How [`pick_window_maxima`] lists the pooled values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PooledOrder {
    /// Window by window, the channels of each together: `PixelRows`.
    PixelRows,
    /// Channel by channel within each image: flattened NCHW.
    ChannelMajor,
}

/// The maximum of each 2×2 window in each channel, `[batch, values]` with
/// each image's values in `order`.
///
/// Which of the four is largest is found on the host, and the maxima are
/// then picked with one `gather` of single values per image. Autodiff sees
/// only that gather, whose backward adds the gradient into the picked
/// positions: exactly max-pooling's gradient. Pooling through tensor ops
/// instead (gather the four positions, `max_dim`, then permute to the dense
/// layers' order) costs more on flex, most of it in copies.
fn pick_window_maxima<B: Backend>(x: PixelRows<B>, order: PooledOrder) -> Tensor<B, 2> {
    let channels = x.channels();
    let device = x.rows.device();
    let values = x.rows.clone().into_data().convert::<f32>();
    let values = values
        .as_slice::<f32>()
        .expect("data converted to f32 reads as f32");
    let index = window_maxima(values, x.batch, x.height, x.width, channels, order);
    let pooled_per_image = (x.height / 2) * (x.width / 2) * channels;
    let index = Tensor::<B, 2, Int>::from_data(
        TensorData::new(index, [x.batch, pooled_per_image]),
        &device,
    );
    x.rows
        .reshape([x.batch, x.height * x.width * channels])
        .gather(1, index)
}

/// For each image, 2×2 window (stride 2) and channel, the position of the
/// window's largest value among the image's values (pixel rows,
/// flattened); the first of equal ones, as Burn's pooling takes. Image by
/// image, listed in `order`; images are shared among threads.
fn window_maxima(
    values: &[f32],
    batch: usize,
    height: usize,
    width: usize,
    channels: usize,
    order: PooledOrder,
) -> Vec<i64> {
    let (out_h, out_w) = (height / 2, width / 2);
    let per_image = out_h * out_w * channels;
    let mut index = vec![0i64; batch * per_image];
    if per_image == 0 {
        return index;
    }
    let row = width * channels;
    values
        .par_chunks_exact(height * row)
        .zip(index.par_chunks_exact_mut(per_image))
        .for_each(|(image, index)| {
            for py in 0..out_h {
                let top = &image[2 * py * row..][..2 * out_w * channels];
                let bottom = &image[(2 * py + 1) * row..][..2 * out_w * channels];
                let pairs = top
                    .chunks_exact(2 * channels)
                    .zip(bottom.chunks_exact(2 * channels));
                for (px, (top, bottom)) in pairs.enumerate() {
                    let top_left = 2 * py * row + 2 * px * channels;
                    let corners = [
                        top_left,
                        top_left + channels,
                        top_left + row,
                        top_left + row + channels,
                    ];
                    let window = py * out_w + px;
                    let (a, b) = top.split_at(channels);
                    let (c, d) = bottom.split_at(channels);
                    let fours = a.iter().zip(b).zip(c).zip(d);
                    for (ch, (((&a, &b), &c), &d)) in fours.enumerate() {
                        // Strict comparisons keep the first of equal values.
                        let (upper, k_upper) = if b > a { (b, 1) } else { (a, 0) };
                        let (lower, k_lower) = if d > c { (d, 3) } else { (c, 2) };
                        let k = if lower > upper { k_lower } else { k_upper };
                        let at = match order {
                            PooledOrder::PixelRows => window * channels + ch,
                            PooledOrder::ChannelMajor => ch * out_h * out_w + window,
                        };
                        index[at] = (corners[k] + ch) as i64;
                    }
                }
            }
        });
    index
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

    /// Both orders of the pooled values, rows and flattened, against
    /// Burn's `MaxPool2d`; odd sides drop their last row or column.
    #[test]
    fn pooling_matches_burns_and_so_does_its_gradient() {
        let device = Default::default();
        for [h, w] in [[6, 4], [7, 5], [4, 6], [5, 7]] {
            let x = Tensor::<B, 4>::random([2, 3, h, w], Distribution::Default, &device);
            let run = |pooling: fn(Tensor<B, 4>) -> Tensor<B, 2>| {
                let x = x.clone().require_grad();
                let y = pooling(x.clone());
                let grads = weighted_sum(y.clone()).backward();
                (y.into_data(), x.grad(&grads).unwrap().into_data())
            };
            let native = run(|x| {
                MaxPool2dConfig::new([2, 2])
                    .with_strides([2, 2])
                    .init()
                    .forward(x)
                    .flatten(1, 3)
            });
            let rows = run(|x| {
                max_pool2x2(PixelRows::from_images(x))
                    .into_images()
                    .flatten(1, 3)
            });
            let flat = run(|x| max_pool2x2_flat(PixelRows::from_images(x)));
            for ours in [rows, flat] {
                native.0.assert_eq(&ours.0, true);
                native.1.assert_eq(&ours.1, true);
            }
        }
    }

    #[test]
    fn ties_go_to_the_first_position_of_the_window() {
        // One 2×2 image, two channels: channel 0 all equal, channel 1 with
        // its maximum in the last corner.
        let values = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 5.0];
        let rows = window_maxima(&values, 1, 2, 2, 2, PooledOrder::PixelRows);
        assert_eq!(rows, vec![0, 7]);
    }
}
