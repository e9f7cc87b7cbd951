//! The MLP as the CPU backends run it fastest.

use burn::nn::Linear;
use burn::prelude::*;
use dlsuite_mlp::Mlp;

use crate::dropout::dropout_on_host;
use crate::host::OnHost;
use crate::linear::linear_on_host;
use crate::Linears;

/// `[batch, inputs] → [batch, outputs]`: `net.forward(x)` with dropout masks
/// drawn on the host and the fully connected layers computed as `linears`
/// says; the same values, up to float rounding, and the same gradients.
pub fn mlp_on_host<B: OnHost>(net: &Mlp<B>, x: Tensor<B, 2>, linears: Linears) -> Tensor<B, 2> {
    let x = net.hidden.iter().fold(x, |x, layer| {
        let x = linear(&layer.linear, x, linears);
        let x = match &layer.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        dropout_on_host(&layer.dropout, layer.activation.forward(x))
    });
    linear(&net.output, x, linears)
}

/// `[batch, in] → [batch, out]`, Burn's layer or the host operation.
pub(crate) fn linear<B: OnHost>(
    layer: &Linear<B>,
    x: Tensor<B, 2>,
    linears: Linears,
) -> Tensor<B, 2> {
    match linears {
        Linears::Burn => layer.forward(x),
        Linears::Host => linear_on_host(layer, x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::module::AutodiffModule;
    use burn::tensor::backend::AutodiffBackend;
    use burn::tensor::{Distribution, Tolerance};
    use dlsuite_mlp::{Activation, MlpConfig};

    /// Logits and every layer's weight and bias gradients.
    fn results<B: AutodiffBackend>(
        net: &Mlp<B>,
        x: Tensor<B, 2>,
        forward: impl Fn(&Mlp<B>, Tensor<B, 2>) -> Tensor<B, 2>,
    ) -> Vec<TensorData> {
        let y = forward(net, x);
        let grads = y.clone().powi_scalar(2).sum().backward();
        let mut out = vec![y.into_data()];
        for linear in net.linears() {
            out.push(linear.weight.grad(&grads).unwrap().into_data());
            out.push(
                linear
                    .bias
                    .as_ref()
                    .unwrap()
                    .grad(&grads)
                    .unwrap()
                    .into_data(),
            );
        }
        out
    }

    /// With batch norm and sigmoid between the layers, so that the host
    /// layers' outputs and gradients pass through Burn's operations too.
    fn host_paths_change_nothing<B>()
    where
        B: AutodiffBackend + OnHost,
        B::InnerBackend: OnHost,
    {
        let device = Default::default();
        let net = MlpConfig::new(20, vec![16, 8], 3)
            .with_activation(Activation::Sigmoid)
            .with_batch_norm(true)
            .init::<B>(&device);
        let x = Tensor::<B, 2>::random([6, 20], Distribution::Normal(0.0, 1.0), &device);
        let plain = results(&net, x.clone(), |net, x| net.forward(x));
        let tol = Tolerance::rel_abs(1e-4, 1e-5);
        for linears in [Linears::Burn, Linears::Host] {
            let host = results(&net, x.clone(), |net, x| mlp_on_host(net, x, linears));
            assert_eq!(plain.len(), host.len());
            for (p, h) in plain.iter().zip(&host) {
                p.assert_approx_eq::<f32>(h, tol);
            }
            let inner = net.valid();
            inner
                .forward(x.clone().inner())
                .into_data()
                .assert_approx_eq::<f32>(
                    &mlp_on_host(&inner, x.clone().inner(), linears).into_data(),
                    tol,
                );
        }
    }

    #[test]
    fn host_paths_change_nothing_on_flex() {
        host_paths_change_nothing::<Autodiff<Flex>>();
    }

    #[test]
    fn host_paths_change_nothing_on_ndarray() {
        host_paths_change_nothing::<Autodiff<NdArray>>();
    }
}
