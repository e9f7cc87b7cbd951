//! A whole convolution block (convolution, bias, ReLU, optional 2×2
//! max-pool) as one operation computed on the host, for the CPU backends.
//!
//! Composed from tensor operations ([`crate::pixel_rows`]) the reference
//! CNN's second block writes its receptive fields as one 42 MB tensor per
//! batch of 64, gathers them, and in the backward pass scatters a second
//! 42 MB tensor back, and pooling's backward adds into a zeroed copy of the
//! maps: most of a training step on flex. Here each image's receptive
//! fields live in a per-thread buffer (0.66 MB) while its matrix product
//! runs, the pooling records which position won each window, and the
//! backward pass routes each gradient straight to that position, rebuilds
//! the image's receptive fields and runs two matrix products per image.
//! Images are shared among threads.
//!
//! ReLU and pooling commute (the maximum of rectified values is the
//! rectified maximum, gradients included), so the block rectifies only the
//! pooled values.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::Autodiff;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use crate::geometry::padding;
use crate::host::{
    float, matmul, primitive, register, tensor, HostBackend, HostOp, Matrix, OnHost, Threads,
};
use crate::pixel_rows::{PixelRows, PooledOrder};

/// Marks a pooling window (or output pixel) whose ReLU output is zero: no
/// gradient flows back through it.
const DEAD: u32 = u32::MAX;

/// Images whose weight gradients one task sums before the tasks' sums are
/// added in order: the same sums, in the same order, whatever the thread
/// count, so that seeded runs repeat exactly.
const IMAGES_PER_TASK: usize = 4;

/// `pool(relu(conv(x)))` as pixel rows. The convolution must be
/// [`crate::geometry::is_plain`].
pub(crate) fn block_rows<B: OnHost>(
    conv: &Conv2d<B>,
    x: &PixelRows<B>,
    pool: bool,
) -> PixelRows<B> {
    let (rows, geometry) = conv_relu_pool(conv, x, pool, PooledOrder::PixelRows);
    let (height, width) = geometry.result_side();
    PixelRows {
        rows,
        batch: x.batch,
        height,
        width,
    }
}

/// [`block_rows`] as `[batch, channels·height·width]`, in the order of
/// the flattened `[batch, channels, height, width]` maps.
pub(crate) fn block_flat<B: OnHost>(
    conv: &Conv2d<B>,
    x: &PixelRows<B>,
    pool: bool,
) -> Tensor<B, 2> {
    conv_relu_pool(conv, x, pool, PooledOrder::ChannelMajor).0
}

/// `pool(relu(conv(x)))` listed in `order`, and the sizes it was computed
/// with.
fn conv_relu_pool<B: OnHost>(
    conv: &Conv2d<B>,
    x: &PixelRows<B>,
    pool: bool,
    order: PooledOrder,
) -> (Tensor<B, 2>, Geometry) {
    let weight = conv.weight.val();
    let device = weight.device();
    let [c_out, c_in, kh, kw] = weight.dims();
    let (top, left, bottom, right) = padding(conv);
    let (padded_h, padded_w) = (x.height + top + bottom, x.width + left + right);
    let geometry = Geometry {
        batch: x.batch,
        height: x.height,
        width: x.width,
        c_in,
        c_out,
        kh,
        kw,
        top,
        left,
        padded_h,
        padded_w,
        out_h: (padded_h + 1).saturating_sub(kh),
        out_w: (padded_w + 1).saturating_sub(kw),
        pool,
        order,
    };
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([c_out], &device),
    };
    (
        B::host_op(&geometry, x.rows.clone(), weight, bias),
        geometry,
    )
}

/// Computed on the host; with autodiff, registered with [`HostBlock`] as
/// its backward step.
impl HostOp<2, 4, 2> for Geometry {
    fn tracked<I: HostBackend>(
        &self,
        x: Tensor<Autodiff<I>, 2>,
        weight: Tensor<Autodiff<I>, 4>,
        bias: Tensor<Autodiff<I>, 1>,
    ) -> Tensor<Autodiff<I>, 2> {
        let geometry = *self;
        let device = x.device();
        let dtype = x.dtype();
        let [x, bias] = [float(x), float(bias)];
        let weight = float(weight);
        let inputs = geometry.padded_inputs(&I::values::<2>(&x.primitive));
        let weights = geometry.weight_matrix(&I::values::<4>(&weight.primitive));
        let (values, routes) =
            geometry.forward(&inputs, &weights, &I::values::<1>(&bias.primitive));
        let output = primitive::<I, 2>(values, geometry.output_shape(), dtype, &device);
        register(HostBlock, [&x, &weight, &bias], output, || {
            Arc::new(Saved {
                geometry,
                inputs,
                weights,
                routes,
                dtype,
            })
        })
    }

    fn untracked<I: HostBackend>(
        &self,
        x: Tensor<I, 2>,
        weight: Tensor<I, 4>,
        bias: Tensor<I, 1>,
    ) -> Tensor<I, 2> {
        let device = x.device();
        let dtype = x.dtype();
        let [x, bias] = [float(x), float(bias)];
        let weight = float(weight);
        let inputs = self.padded_inputs(&I::values::<2>(&x));
        let (values, _) = self.forward(
            &inputs,
            &self.weight_matrix(&I::values::<4>(&weight)),
            &I::values::<1>(&bias),
        );
        tensor(values, self.output_shape(), dtype, &device)
    }
}

/// What the backward pass of [`HostBlock`] reads.
#[derive(Debug)]
struct Saved {
    geometry: Geometry,
    /// The padded input images, `[batch, padded_h·padded_w·c_in]`.
    inputs: Vec<f32>,
    /// `[kh·kw·c_in, c_out]`, see [`Geometry::weight_matrix`].
    weights: Vec<f32>,
    /// Per output value, the convolution output pixel it came from, or
    /// [`DEAD`].
    routes: Vec<u32>,
    dtype: DType,
}

#[derive(Debug)]
struct HostBlock;

impl<I: HostBackend> Backward<I, 3> for HostBlock {
    type State = Arc<Saved>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [x_node, weight_node, bias_node] = ops.parents;
        let grad = grads.consume::<I>(&ops.node);
        let device = I::float_device(&grad);
        let saved = &ops.state;
        let g = &saved.geometry;
        let (x_grad, weight_grad, bias_grad) = g.backward(
            &I::values::<2>(&grad),
            &saved.inputs,
            &saved.weights,
            &saved.routes,
            x_node.is_some(),
        );
        let dtype = saved.dtype;
        if let Some(node) = x_node {
            let shape = [g.batch * g.height * g.width, g.c_in];
            grads.register::<I>(node.id, primitive::<I, 2>(x_grad, shape, dtype, &device));
        }
        if let Some(node) = weight_node {
            let weight_grad = g.weight_layout(&weight_grad);
            let shape = [g.c_out, g.c_in, g.kh, g.kw];
            let weight_grad = primitive::<I, 4>(weight_grad, shape, dtype, &device);
            grads.register::<I>(node.id, weight_grad);
        }
        if let Some(node) = bias_node {
            let bias_grad = primitive::<I, 1>(bias_grad, [g.c_out], dtype, &device);
            grads.register::<I>(node.id, bias_grad);
        }
    }
}

/// The sizes of one block applied to one batch.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    height: usize,
    width: usize,
    c_in: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    top: usize,
    left: usize,
    padded_h: usize,
    padded_w: usize,
    /// The convolution's output side.
    out_h: usize,
    out_w: usize,
    pool: bool,
    order: PooledOrder,
}

impl Geometry {
    /// Values in one receptive field, ordered (ky, kx, c_in).
    fn field(&self) -> usize {
        self.kh * self.kw * self.c_in
    }

    /// Pixels of the convolution's output, per image.
    fn positions(&self) -> usize {
        self.out_h * self.out_w
    }

    fn padded_image(&self) -> usize {
        self.padded_h * self.padded_w * self.c_in
    }

    /// The block's output side: pooled or not.
    fn result_side(&self) -> (usize, usize) {
        if self.pool {
            (self.out_h / 2, self.out_w / 2)
        } else {
            (self.out_h, self.out_w)
        }
    }

    /// Output values per image.
    fn outputs(&self) -> usize {
        let (h, w) = self.result_side();
        h * w * self.c_out
    }

    fn output_shape(&self) -> [usize; 2] {
        let (h, w) = self.result_side();
        match self.order {
            PooledOrder::PixelRows => [self.batch * h * w, self.c_out],
            PooledOrder::ChannelMajor => [self.batch, self.c_out * h * w],
        }
    }

    /// Where output value (pixel, channel) of an image lies in `order`:
    /// `pixel·pixel_stride + channel·channel_stride`.
    fn strides(&self) -> (usize, usize) {
        let (h, w) = self.result_side();
        match self.order {
            PooledOrder::PixelRows => (self.c_out, 1),
            PooledOrder::ChannelMajor => (1, h * w),
        }
    }

    /// Pixel rows `[batch·height·width, c_in]` with zero rows and columns
    /// around each image: the copy of the input the backward pass keeps.
    fn padded_inputs(&self, x: &[f32]) -> Vec<f32> {
        if (self.padded_h, self.padded_w) == (self.height, self.width) {
            return x.to_vec();
        }
        let mut padded = vec![0.0; self.batch * self.padded_image()];
        let row = self.width * self.c_in;
        if row == 0 {
            return padded;
        }
        for (image, out) in x
            .chunks_exact(self.height * row)
            .zip(padded.chunks_exact_mut(self.padded_image()))
        {
            for (y, source) in image.chunks_exact(row).enumerate() {
                let at = ((y + self.top) * self.padded_w + self.left) * self.c_in;
                out[at..at + row].copy_from_slice(source);
            }
        }
        padded
    }

    /// Burn's `[c_out, c_in, kh, kw]` weights as `[kh·kw·c_in, c_out]`,
    /// rows in receptive-field order.
    fn weight_matrix(&self, weight: &[f32]) -> Vec<f32> {
        let mut matrix = vec![0.0; weight.len()];
        for (i, &w) in weight.iter().enumerate() {
            matrix[self.matrix_index(i)] = w;
        }
        matrix
    }

    /// The inverse of [`Geometry::weight_matrix`].
    fn weight_layout(&self, matrix: &[f32]) -> Vec<f32> {
        (0..matrix.len())
            .map(|i| matrix[self.matrix_index(i)])
            .collect()
    }

    /// Where weight `i` of Burn's layout lies in [`Geometry::weight_matrix`].
    fn matrix_index(&self, i: usize) -> usize {
        let (kx, rest) = (i % self.kw, i / self.kw);
        let (ky, rest) = (rest % self.kh, rest / self.kh);
        let (ci, co) = (rest % self.c_in, rest / self.c_in);
        ((ky * self.kw + kx) * self.c_in + ci) * self.c_out + co
    }

    /// Each receptive field's rows, one `kw·c_in` span of the padded image
    /// per kernel row: where each starts in the fields and in the image.
    fn spans(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let span = self.kw * self.c_in;
        (0..self.positions()).flat_map(move |p| {
            let (oy, ox) = (p / self.out_w, p % self.out_w);
            (0..self.kh).map(move |ky| {
                let field_at = p * self.field() + ky * span;
                (field_at, ((oy + ky) * self.padded_w + ox) * self.c_in)
            })
        })
    }

    /// One image's receptive fields, `[positions, field]`.
    fn receptive_fields(&self, image: &[f32], fields: &mut [f32]) {
        let span = self.kw * self.c_in;
        for (field_at, image_at) in self.spans() {
            fields[field_at..field_at + span].copy_from_slice(&image[image_at..image_at + span]);
        }
    }

    /// The output values of the batch, and where each came from.
    fn forward(&self, inputs: &[f32], weights: &[f32], bias: &[f32]) -> (Vec<f32>, Vec<u32>) {
        let outputs = self.outputs();
        let mut values = vec![0.0; self.batch * outputs];
        let mut routes = vec![DEAD; self.batch * outputs];
        if outputs == 0 {
            return (values, routes);
        }
        let (positions, field) = (self.positions(), self.field());
        values
            .par_chunks_mut(outputs)
            .zip(routes.par_chunks_mut(outputs))
            .zip(inputs.par_chunks(self.padded_image().max(1)))
            .for_each_init(
                || {
                    (
                        vec![0.0; positions * field],
                        vec![0.0; positions * self.c_out],
                    )
                },
                |(fields, conv), ((values, routes), image)| {
                    self.receptive_fields(image, fields);
                    for pixel in conv.chunks_exact_mut(self.c_out) {
                        pixel.copy_from_slice(bias);
                    }
                    matmul(
                        Matrix::rows(fields, positions, field),
                        Matrix::rows(weights, field, self.c_out),
                        conv,
                        true,
                        Threads::One,
                    );
                    self.pool_and_rectify(conv, values, routes);
                },
            );
        (values, routes)
    }

    /// ReLU of each 2×2 window's maximum (the first of equal ones, as
    /// Burn's pooling takes), or of each pixel without pooling, from one
    /// image's convolution output `[positions, c_out]`.
    fn pool_and_rectify(&self, conv: &[f32], values: &mut [f32], routes: &mut [u32]) {
        let (h, w) = self.result_side();
        let (pixel_stride, channel_stride) = self.strides();
        let c = self.c_out;
        for pixel in 0..h * w {
            let mut put = |channel: usize, v: f32, source: usize| {
                let at = pixel * pixel_stride + channel * channel_stride;
                // NaN passes, as through Burn's ReLU.
                (values[at], routes[at]) = if v <= 0.0 {
                    (0.0, DEAD)
                } else {
                    (v, source as u32)
                };
            };
            if !self.pool {
                for (channel, &v) in conv[pixel * c..][..c].iter().enumerate() {
                    put(channel, v, pixel);
                }
                continue;
            }
            let corner = 2 * (pixel / w) * self.out_w + 2 * (pixel % w);
            let corners = [
                corner,
                corner + 1,
                corner + self.out_w,
                corner + self.out_w + 1,
            ];
            let [a, b, c_, d] = corners.map(|p| &conv[p * c..][..c]);
            for channel in 0..c {
                let (a, b, c_, d) = (a[channel], b[channel], c_[channel], d[channel]);
                // Strict comparisons keep the first of equal values.
                let (upper, k_upper) = if b > a { (b, 1) } else { (a, 0) };
                let (lower, k_lower) = if d > c_ { (d, 3) } else { (c_, 2) };
                let (v, k) = if lower > upper {
                    (lower, k_lower)
                } else {
                    (upper, k_upper)
                };
                put(channel, v, corners[k]);
            }
        }
    }

    /// Gradients of the input pixel rows (if `want_x`; else empty), of the
    /// weights as [`Geometry::weight_matrix`] lays them out, and of the
    /// bias, from the output's gradient.
    fn backward(
        &self,
        grad: &[f32],
        inputs: &[f32],
        weights: &[f32],
        routes: &[u32],
        want_x: bool,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (positions, field, outputs) = (self.positions(), self.field(), self.outputs());
        let image = self.height * self.width * self.c_in;
        let mut x_grad = vec![0.0; if want_x { self.batch * image } else { 0 }];
        let mut weight_grad = vec![0.0; field * self.c_out];
        let mut bias_grad = vec![0.0; self.c_out];
        if outputs == 0 || positions == 0 {
            return (x_grad, weight_grad, bias_grad);
        }
        let tasks = self.batch.div_ceil(IMAGES_PER_TASK);
        let (h, w) = self.result_side();
        let pixels = h * w;
        let (pixel_stride, channel_stride) = self.strides();
        let mut x_grads: Vec<&mut [f32]> = if want_x {
            x_grad.chunks_mut(IMAGES_PER_TASK * image).collect()
        } else {
            (0..tasks).map(|_| &mut [][..]).collect()
        };
        let sums: Vec<(Vec<f32>, Vec<f32>)> = x_grads
            .par_iter_mut()
            .enumerate()
            .map_init(
                || Buffers {
                    fields: vec![0.0; positions * field],
                    conv_grad: vec![0.0; positions * self.c_out],
                    field_grads: vec![0.0; if want_x { positions * field } else { 0 }],
                    padded: vec![0.0; if want_x { self.padded_image() } else { 0 }],
                },
                |buffers, (task, x_grad)| {
                    let Buffers {
                        fields,
                        conv_grad,
                        field_grads,
                        padded,
                    } = buffers;
                    let first = task * IMAGES_PER_TASK;
                    let images = first..(first + IMAGES_PER_TASK).min(self.batch);
                    let mut weight_grad = vec![0.0; field * self.c_out];
                    let mut bias_grad = vec![0.0; self.c_out];
                    for (k, b) in images.enumerate() {
                        // The convolution output's gradient: each output
                        // value's gradient at the pixel it came from.
                        conv_grad.fill(0.0);
                        let (grad, routes) = (&grad[b * outputs..], &routes[b * outputs..]);
                        for pixel in 0..pixels {
                            for (channel, bias_grad) in bias_grad.iter_mut().enumerate() {
                                let at = pixel * pixel_stride + channel * channel_stride;
                                if routes[at] != DEAD {
                                    conv_grad[routes[at] as usize * self.c_out + channel] =
                                        grad[at];
                                    *bias_grad += grad[at];
                                }
                            }
                        }
                        let image_in = &inputs[b * self.padded_image()..][..self.padded_image()];
                        self.receptive_fields(image_in, fields);
                        matmul(
                            Matrix::rows(fields, positions, field).transposed(),
                            Matrix::rows(conv_grad, positions, self.c_out),
                            &mut weight_grad,
                            true,
                            Threads::One,
                        );
                        if want_x {
                            matmul(
                                Matrix::rows(conv_grad, positions, self.c_out),
                                Matrix::rows(weights, field, self.c_out).transposed(),
                                field_grads,
                                false,
                                Threads::One,
                            );
                            padded.fill(0.0);
                            self.add_fields_back(field_grads, padded);
                            self.crop(padded, &mut x_grad[k * image..][..image]);
                        }
                    }
                    (weight_grad, bias_grad)
                },
            )
            .collect();
        for (w, b) in sums {
            weight_grad.iter_mut().zip(w).for_each(|(s, g)| *s += g);
            bias_grad.iter_mut().zip(b).for_each(|(s, g)| *s += g);
        }
        (x_grad, weight_grad, bias_grad)
    }

    /// Adds each receptive field's gradient into the padded image's.
    fn add_fields_back(&self, field_grads: &[f32], padded: &mut [f32]) {
        let span = self.kw * self.c_in;
        for (field_at, image_at) in self.spans() {
            padded[image_at..image_at + span]
                .iter_mut()
                .zip(&field_grads[field_at..field_at + span])
                .for_each(|(p, g)| *p += g);
        }
    }

    /// The image inside a padded one.
    fn crop(&self, padded: &[f32], image: &mut [f32]) {
        let row = self.width * self.c_in;
        for (y, out) in image.chunks_exact_mut(row.max(1)).enumerate() {
            let at = ((y + self.top) * self.padded_w + self.left) * self.c_in;
            out.copy_from_slice(&padded[at..at + row]);
        }
    }
}

/// One thread's scratch space for [`Geometry::backward`].
struct Buffers {
    fields: Vec<f32>,
    conv_grad: Vec<f32>,
    field_grads: Vec<f32>,
    padded: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::weighted_sum;
    use burn::backend::NdArray;
    use burn::module::AutodiffModule;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::nn::PaddingConfig2d;
    use burn::tensor::{Distribution, Tolerance};

    type B = Autodiff<NdArray>;

    /// Burn's layers for the same block: convolution, pooling, ReLU, listed
    /// in `order`.
    fn composed<B: Backend>(
        conv: &Conv2d<B>,
        x: Tensor<B, 4>,
        pool: bool,
        order: PooledOrder,
    ) -> Tensor<B, 2> {
        let y = conv.forward(x);
        let y = if pool {
            MaxPool2dConfig::new([2, 2])
                .with_strides([2, 2])
                .init()
                .forward(y)
        } else {
            y
        };
        let y = burn::tensor::activation::relu(y);
        match order {
            PooledOrder::PixelRows => PixelRows::from_images(y).rows,
            PooledOrder::ChannelMajor => y.flatten(1, 3),
        }
    }

    fn host<B: OnHost>(
        conv: &Conv2d<B>,
        x: Tensor<B, 4>,
        pool: bool,
        order: PooledOrder,
    ) -> Tensor<B, 2> {
        let x = PixelRows::from_images(x);
        match order {
            PooledOrder::PixelRows => block_rows(conv, &x, pool).rows,
            PooledOrder::ChannelMajor => block_flat(conv, &x, pool),
        }
    }

    /// Outputs and the gradients of the input, weights and bias agree with
    /// Burn's layers: padded and unpadded, a non-square kernel, one input
    /// channel and several, odd sides to pool, no bias, both orders; and
    /// the forward pass without autodiff.
    #[test]
    fn host_blocks_match_burns_layers_and_their_gradients() {
        let device = Default::default();
        B::seed(&device, 11);
        let cases = [
            (1, PaddingConfig2d::Same, [3, 3], [8, 8], true, true),
            (3, PaddingConfig2d::Valid, [3, 2], [9, 8], false, true),
            (
                3,
                PaddingConfig2d::Explicit(1, 0, 2, 1),
                [3, 3],
                [7, 9],
                true,
                true,
            ),
            (2, PaddingConfig2d::Valid, [2, 2], [6, 7], true, false),
        ];
        let tol = Tolerance::<f32>::rel_abs(1e-4, 1e-4);
        for (c_in, padding, kernel, [h, w], pool, bias) in cases {
            let conv: Conv2d<B> = Conv2dConfig::new([c_in, 5], kernel)
                .with_padding(padding.clone())
                .with_bias(bias)
                .init(&device);
            // Nine images: more than one task of the backward pass.
            let x = Tensor::<B, 4>::random([9, c_in, h, w], Distribution::Default, &device);
            for order in [PooledOrder::PixelRows, PooledOrder::ChannelMajor] {
                println!("{c_in} channels, {padding:?}, {kernel:?}, pool {pool}, {order:?}");
                type Block = fn(&Conv2d<B>, Tensor<B, 4>, bool, PooledOrder) -> Tensor<B, 2>;
                let run = |block: Block| {
                    let x = x.clone().require_grad();
                    let y = block(&conv, x.clone(), pool, order);
                    let grads = weighted_sum(y.clone()).backward();
                    let mut results = vec![
                        y.into_data(),
                        x.grad(&grads).unwrap().into_data(),
                        conv.weight.grad(&grads).unwrap().into_data(),
                    ];
                    if let Some(bias) = &conv.bias {
                        results.push(bias.grad(&grads).unwrap().into_data());
                    }
                    results
                };
                let expected = run(composed);
                let got = run(host);
                assert_eq!(expected.len(), got.len());
                for (expected, got) in expected.iter().zip(&got) {
                    expected.assert_approx_eq(got, tol);
                }
                // Without autodiff.
                let conv = conv.valid();
                let x = x.clone().inner();
                composed(&conv, x.clone(), pool, order)
                    .into_data()
                    .assert_approx_eq(&host(&conv, x, pool, order).into_data(), tol);
            }
        }
    }
}
