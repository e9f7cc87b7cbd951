//! Convolution as a matrix product of image patches ("im2col").
//!
//! ndarray's own convolution computes the weight gradient as a direct loop
//! over every weight, image and pixel; for the reference CNN's second layer
//! that is about 3 s per batch of 64. Written as patches times weights, the
//! same convolution trains through autodiff's matrix-product backward instead
//! (about 0.4 s). The outputs are the same up to float rounding, and so are
//! the weights it reads: it is another way to run a [`Conv2d`], not a layer.

use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::ops::PadMode;

use crate::geometry::padding;

/// `[batch, c_in, h, w] → [batch, c_out, h', w']`, the same as `conv.forward`
/// for a convolution that [`crate::geometry::is_plain`].
pub fn conv2d_im2col<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let (top, left, bottom, right) = padding(conv);
    let x = if top + bottom + left + right > 0 {
        x.pad((left, right, top, bottom), PadMode::Constant(0.0))
    } else {
        x
    };
    let [batch, c_in, height, width] = x.dims();
    let weight = conv.weight.val();
    let [c_out, _, kh, kw] = weight.dims();
    let (out_h, out_w) = (height + 1 - kh, width + 1 - kw);

    // One shifted view of the image per kernel position, stacked so that a
    // column holds one output pixel's receptive field:
    // [batch, c_in·kh·kw, out_h·out_w], rows ordered as the weight's.
    let shifted: Vec<Tensor<B, 4>> = (0..kh)
        .flat_map(|i| (0..kw).map(move |j| (i, j)))
        .map(|(i, j)| {
            x.clone()
                .slice([0..batch, 0..c_in, i..i + out_h, j..j + out_w])
        })
        .collect();
    let patches: Tensor<B, 3> =
        Tensor::stack::<5>(shifted, 2).reshape([batch, c_in * kh * kw, out_h * out_w]);

    // [1, c_out, c_in·kh·kw] × [batch, c_in·kh·kw, out_h·out_w]
    let weights: Tensor<B, 3> = weight.reshape([1, c_out, c_in * kh * kw]);
    let out = weights
        .matmul(patches)
        .reshape([batch, c_out, out_h, out_w]);
    match &conv.bias {
        Some(bias) => out + bias.val().reshape([1, c_out, 1, 1]),
        None => out,
    }
}
