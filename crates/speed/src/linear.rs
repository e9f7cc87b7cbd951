//! A fully connected layer, `x·W + b`, as one operation computed in host
//! memory, for flex.
//!
//! Flex computes Burn's `Linear` as a matrix product into a fresh tensor
//! (allocated zeroed, then copied once more to align it: burn-flex 0.21,
//! `FlexTensor::empty`) and a second pass that adds the bias; its backward
//! pass allocates the same way for both gradients. Here the bias is the
//! product's starting value and every result is written once, into memory
//! the backend then takes over as it is. ndarray hands its tensors over
//! copied value by value, which costs more than the layer saves, so only
//! flex uses it (see the crate's README).

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::Autodiff;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::DType;

use crate::host::{
    float, matmul, primitive, register, tensor, HostBackend, HostOp, Matrix, OnHost, Threads,
};

/// `[batch, d_input] → [batch, d_output]`: `layer.forward(x)`, computed on
/// the host.
pub fn linear_on_host<B: OnHost>(layer: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let weight = layer.weight.val();
    let [inputs, outputs] = weight.dims();
    let sizes = Sizes {
        batch: x.dims()[0],
        inputs,
        outputs,
    };
    let bias = match &layer.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([outputs], &weight.device()),
    };
    B::host_op(&sizes, x, weight, bias)
}

/// Computed on the host; with autodiff, registered with [`HostLinear`] as
/// its backward step.
impl HostOp<2, 2, 2> for Sizes {
    fn tracked<I: HostBackend>(
        &self,
        x: Tensor<Autodiff<I>, 2>,
        weight: Tensor<Autodiff<I>, 2>,
        bias: Tensor<Autodiff<I>, 1>,
    ) -> Tensor<Autodiff<I>, 2> {
        let sizes = *self;
        let device = x.device();
        let dtype = x.dtype();
        let [x, weight, bias] = [float(x), float(weight), float(bias)];
        let values = sizes.forward(
            &I::values::<2>(&x.primitive),
            &I::values::<2>(&weight.primitive),
            &I::values::<1>(&bias.primitive),
        );
        let output = primitive::<I, 2>(values, sizes.output_shape(), dtype, &device);
        register(HostLinear, [&x, &weight, &bias], output, || {
            Arc::new(Saved::<I> {
                sizes,
                x: x.primitive.clone(),
                weight: weight.primitive.clone(),
                dtype,
            })
        })
    }

    fn untracked<I: HostBackend>(
        &self,
        x: Tensor<I, 2>,
        weight: Tensor<I, 2>,
        bias: Tensor<I, 1>,
    ) -> Tensor<I, 2> {
        let device = x.device();
        let dtype = x.dtype();
        let [x, weight] = [float(x), float(weight)];
        let bias = float(bias);
        let values = self.forward(
            &I::values::<2>(&x),
            &I::values::<2>(&weight),
            &I::values::<1>(&bias),
        );
        tensor(values, self.output_shape(), dtype, &device)
    }
}

/// What the backward pass of [`HostLinear`] reads: the layer's input and
/// weights as the backend holds them (on flex, without a copy).
#[derive(Debug)]
struct Saved<I: Backend> {
    sizes: Sizes,
    /// `[batch, inputs]`
    x: I::FloatTensorPrimitive,
    /// `[inputs, outputs]`
    weight: I::FloatTensorPrimitive,
    dtype: DType,
}

#[derive(Debug)]
struct HostLinear;

impl<I: HostBackend> Backward<I, 3> for HostLinear {
    type State = Arc<Saved<I>>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [x_node, weight_node, bias_node] = ops.parents;
        let grad = grads.consume::<I>(&ops.node);
        let Saved {
            sizes: s,
            x,
            weight,
            dtype,
        } = ops.state.as_ref();
        let device = I::float_device(&grad);
        let grad = I::values::<2>(&grad);
        if let Some(node) = x_node {
            let x_grad = s.x_grad(&grad, &I::values::<2>(weight));
            let x_grad = primitive::<I, 2>(x_grad, [s.batch, s.inputs], *dtype, &device);
            grads.register::<I>(node.id, x_grad);
        }
        if let Some(node) = weight_node {
            let weight_grad = s.weight_grad(&grad, &I::values::<2>(x));
            let weight_grad =
                primitive::<I, 2>(weight_grad, [s.inputs, s.outputs], *dtype, &device);
            grads.register::<I>(node.id, weight_grad);
        }
        if let Some(node) = bias_node {
            let bias_grad = primitive::<I, 1>(s.bias_grad(&grad), [s.outputs], *dtype, &device);
            grads.register::<I>(node.id, bias_grad);
        }
    }
}

/// The sizes of one layer applied to one batch.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    batch: usize,
    inputs: usize,
    outputs: usize,
}

impl Sizes {
    fn output_shape(&self) -> [usize; 2] {
        [self.batch, self.outputs]
    }

    /// `x·W + b`: each row starts as the bias, and the product is added.
    fn forward(&self, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
        let mut out = bias.repeat(self.batch);
        matmul(
            Matrix::rows(x, self.batch, self.inputs),
            Matrix::rows(weight, self.inputs, self.outputs),
            &mut out,
            true,
            Threads::Pool,
        );
        out
    }

    /// `grad · Wᵀ`, `[batch, inputs]`.
    fn x_grad(&self, grad: &[f32], weight: &[f32]) -> Vec<f32> {
        let mut x_grad = vec![0.0; self.batch * self.inputs];
        matmul(
            Matrix::rows(grad, self.batch, self.outputs),
            Matrix::rows(weight, self.inputs, self.outputs).transposed(),
            &mut x_grad,
            false,
            Threads::Pool,
        );
        x_grad
    }

    /// `xᵀ · grad`, `[inputs, outputs]`.
    fn weight_grad(&self, grad: &[f32], x: &[f32]) -> Vec<f32> {
        let mut weight_grad = vec![0.0; self.inputs * self.outputs];
        matmul(
            Matrix::rows(x, self.batch, self.inputs).transposed(),
            Matrix::rows(grad, self.batch, self.outputs),
            &mut weight_grad,
            false,
            Threads::Pool,
        );
        weight_grad
    }

    /// The gradient's column sums, row by row in order.
    fn bias_grad(&self, grad: &[f32]) -> Vec<f32> {
        let mut sums = vec![0.0; self.outputs];
        for row in grad.chunks_exact(self.outputs.max(1)) {
            sums.iter_mut().zip(row).for_each(|(s, g)| *s += g);
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Flex, NdArray};
    use burn::module::AutodiffModule;
    use burn::nn::LinearConfig;
    use burn::tensor::{Distribution, Tolerance};

    /// The output and the x, weight and bias gradients of a weighted sum of
    /// the output (so that every output value's gradient differs), through
    /// Burn's layer or the host operation.
    fn results<B: burn::tensor::backend::AutodiffBackend + OnHost>(
        layer: &Linear<B>,
        x: Tensor<B, 2>,
        host: bool,
    ) -> Vec<TensorData> {
        let x = x.require_grad();
        let y = if host {
            linear_on_host(layer, x.clone())
        } else {
            layer.forward(x.clone())
        };
        let [batch, outputs] = y.dims();
        let weights = Tensor::<B, 1, Int>::arange(0..(batch * outputs) as i64, &y.device())
            .float()
            .reshape([batch, outputs])
            .cos();
        let grads = (y.clone() * weights).sum().backward();
        let mut out = vec![
            y.into_data(),
            x.grad(&grads).unwrap().into_data(),
            layer.weight.grad(&grads).unwrap().into_data(),
        ];
        if let Some(bias) = &layer.bias {
            out.push(bias.grad(&grads).unwrap().into_data());
        }
        out
    }

    fn agrees_with_burns_layer<B>()
    where
        B: burn::tensor::backend::AutodiffBackend + OnHost,
        B::InnerBackend: OnHost,
    {
        let device = Default::default();
        // Batch 1, odd sizes, no bias, and products large enough to be
        // shared among threads, through both libraries (see `matmul`).
        let cases = [
            (1, 3, 2, true),
            (7, 13, 5, false),
            (9, 6, 11, true),
            (200, 210, 190, true),
            (300, 200, 150, true),
        ];
        for (batch, inputs, outputs, bias) in cases {
            let layer: Linear<B> = LinearConfig::new(inputs, outputs)
                .with_bias(bias)
                .init(&device);
            let x =
                Tensor::<B, 2>::random([batch, inputs], Distribution::Normal(0.0, 1.0), &device);
            let burns = results(&layer, x.clone(), false);
            let ours = results(&layer, x.clone(), true);
            assert_eq!(burns.len(), ours.len());
            for (b, o) in burns.iter().zip(&ours) {
                b.assert_approx_eq::<f32>(o, Tolerance::rel_abs(1e-4, 1e-4));
            }
            // Without autodiff: the same forward pass.
            let inner = layer.valid();
            let y = linear_on_host(&inner, x.inner());
            burns[0].assert_approx_eq::<f32>(&y.into_data(), Tolerance::rel_abs(1e-4, 1e-4));
        }
    }

    #[test]
    fn host_linear_matches_burns_layer_on_ndarray() {
        agrees_with_burns_layer::<Autodiff<NdArray>>();
    }

    #[test]
    fn host_linear_matches_burns_layer_on_flex() {
        agrees_with_burns_layer::<Autodiff<Flex>>();
    }
}
