//! Which fast paths each backend takes, fixed by its type.

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_cnn::Cnn;
use dlsuite_mlp::Mlp;
use dlsuite_train::OptimizerConfig;

use crate::cnn::cnn_on_host;
use crate::mlp::mlp_on_host;
use crate::optimizer::TunedOptimizer;
use crate::Linears;

/// A backend the suite runs nets on, with the fastest way it has to
/// compute each. The defaults are the model crates' own `forward`.
pub trait Tuned: Backend {
    /// Whether a training or validation set goes to the device once, each
    /// batch gathered there ([`crate::loader_on_device`]), rather than made
    /// on the host and uploaded each step.
    const DATA_ON_DEVICE: bool = false;

    /// `net.forward(x)`.
    fn mlp(net: &Mlp<Self>, x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        net.forward(x)
    }

    /// `net.forward(images)`.
    fn cnn(net: &Cnn<Self>, images: Tensor<Self, 4>) -> Tensor<Self, 2> {
        net.forward(images)
    }
}

/// A backend the suite trains on: [`Tuned`] with and without autodiff, and
/// the fastest implementation it has of each optimizer. The default is
/// Burn's.
pub trait TunedAutodiff: AutodiffBackend<InnerBackend: Tuned> + Tuned {
    /// How many steps' loss and accuracy training reads back at once
    /// (`FitConfig::read_every`): on the CPU a read costs nothing, so each
    /// step's figures show as it ends.
    const READ_EVERY: usize = 1;

    fn optimizer<M: AutodiffModule<Self>>(config: &OptimizerConfig) -> TunedOptimizer<M, Self> {
        TunedOptimizer::burn(config)
    }
}

/// Flex lets host operations read its tensors where they lie, so fully
/// connected layers gain from running on the host too, except an MLP's
/// without autodiff: there Burn's measured faster (see the README).
impl Tuned for Flex {
    fn cnn(net: &Cnn<Self>, images: Tensor<Self, 4>) -> Tensor<Self, 2> {
        cnn_on_host(net, images, Linears::Host)
    }
}

impl Tuned for Autodiff<Flex> {
    fn mlp(net: &Mlp<Self>, x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        mlp_on_host(net, x, Linears::Host)
    }

    fn cnn(net: &Cnn<Self>, images: Tensor<Self, 4>) -> Tensor<Self, 2> {
        cnn_on_host(net, images, Linears::Host)
    }
}

impl TunedAutodiff for Autodiff<Flex> {
    fn optimizer<M: AutodiffModule<Self>>(config: &OptimizerConfig) -> TunedOptimizer<M, Self> {
        TunedOptimizer::host_adam(config)
    }
}

/// ndarray hands its tensors over copied value by value: its fully
/// connected layers stay Burn's, and without autodiff (inference), where its
/// own convolution is fast, the whole net is the plain one.
impl Tuned for NdArray {}

impl Tuned for Autodiff<NdArray> {
    fn mlp(net: &Mlp<Self>, x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        mlp_on_host(net, x, Linears::Burn)
    }

    fn cnn(net: &Cnn<Self>, images: Tensor<Self, 4>) -> Tensor<Self, 2> {
        cnn_on_host(net, images, Linears::Burn)
    }
}

impl TunedAutodiff for Autodiff<NdArray> {
    fn optimizer<M: AutodiffModule<Self>>(config: &OptimizerConfig) -> TunedOptimizer<M, Self> {
        TunedOptimizer::host_adam(config)
    }
}

/// The wgpu backend with Burn's operation fusion, which joins chains of
/// element-wise operations into one kernel. Fusion's streams belong to the
/// thread that makes a tensor; in Burn 0.21 a read from another thread while
/// training goes on races ("Should have handle for tensor",
/// tracel-ai/burn#4347), so the suite makes batches on the training thread
/// and has training wait while burn-train's threads write a checkpoint.
#[cfg(feature = "wgpu")]
pub type Wgpu = burn::backend::wgpu::Wgpu<f32, i32, u32>;

/// The CUDA backend, fused as `Wgpu` is.
#[cfg(feature = "cuda")]
pub type Cuda = burn_cuda::Cuda<f32, i32>;

/// GPUs run the model crates' own layers: host operations would copy
/// across the bus. A read from the device waits until the work queued
/// before it is done, so training reads its figures every 50 steps.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
macro_rules! plain_gpu {
    ($backend:ty, data_on_device: $on_device:expr) => {
        impl Tuned for $backend {
            const DATA_ON_DEVICE: bool = $on_device;
        }
        impl Tuned for Autodiff<$backend> {
            const DATA_ON_DEVICE: bool = $on_device;
        }
        impl TunedAutodiff for Autodiff<$backend> {
            const READ_EVERY: usize = 50;
        }
    };
}

// wgpu's sets stay on the host: on Mesa's software Vulkan, where CI and
// machines without a GPU run wgpu, the gather, unpacking and look-up are
// kernels run by the CPU and cost more than the upload they replace
// (docs/gpu/README.md); on a real GPU the gain is yet to be measured.
#[cfg(feature = "wgpu")]
plain_gpu!(Wgpu, data_on_device: false);
// CUDA only ever runs on a GPU, where the PyTorch reference keeps its
// data too.
#[cfg(feature = "cuda")]
plain_gpu!(Cuda, data_on_device: true);

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::Linear;
    use dlsuite_train::OptimizerChoice;

    fn is_host_adam<B: TunedAutodiff>(kind: OptimizerChoice) -> bool {
        let config = OptimizerConfig::new(kind);
        matches!(
            B::optimizer::<Linear<B>>(&config),
            TunedOptimizer::HostAdam(_)
        )
    }

    #[test]
    fn the_cpu_backends_step_adam_on_the_host_and_nothing_else() {
        assert!(is_host_adam::<Autodiff<Flex>>(OptimizerChoice::Adam));
        assert!(is_host_adam::<Autodiff<NdArray>>(OptimizerChoice::Adam));
        for other in [
            OptimizerChoice::Sgd,
            OptimizerChoice::AdamW,
            OptimizerChoice::RmsProp,
        ] {
            assert!(!is_host_adam::<Autodiff<Flex>>(other));
        }
    }
}
