//! Picking the Burn backend at run time.

use burn::backend::wgpu::{CubeBackend, WgpuRuntime};
use burn::backend::{Autodiff, Flex, NdArray};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// CPU, through ndarray.
    Ndarray,
    /// CPU, through Burn's flex kernels: the fastest CPU choice measured
    /// here (about ten times ndarray on convolutions), so the default.
    Flex,
    /// GPU through wgpu (Vulkan, Metal, DX12), or a software Vulkan driver.
    Wgpu,
}

impl BackendChoice {
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Ndarray => "ndarray",
            BackendChoice::Flex => "flex",
            BackendChoice::Wgpu => "wgpu",
        }
    }
}

/// The wgpu backend, without Burn's operation fusion: in Burn 0.21 fusion
/// races when burn-train's checkpoint thread reads the weights while training
/// goes on ("Should have handle for tensor", tracel-ai/burn#4947), which
/// killed every wgpu run at its first checkpoint.
pub type Wgpu = CubeBackend<WgpuRuntime, f32, i32, u32>;

/// A job that can run on any autodiff backend.
pub trait OnBackend {
    type Output;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Self::Output;
}

/// Runs `job` on the chosen backend. For wgpu, first checks that an adapter
/// exists, so that a machine without one gets an error, not a panic.
pub fn dispatch<T: OnBackend>(choice: BackendChoice, job: T) -> anyhow::Result<T::Output> {
    match choice {
        BackendChoice::Ndarray => Ok(job.run::<Autodiff<NdArray>>(Default::default())),
        BackendChoice::Flex => Ok(job.run::<Autodiff<Flex>>(Default::default())),
        BackendChoice::Wgpu => {
            wgpu_probe()?;
            Ok(job.run::<Autodiff<Wgpu>>(Default::default()))
        }
    }
}

/// Runs one tiny computation on wgpu; fails with a readable reason when no
/// adapter can be had.
pub fn wgpu_probe() -> anyhow::Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| {
        let device = Default::default();
        let t = Tensor::<Wgpu, 1>::from_floats([1.0, 2.0], &device);
        t.sum().into_scalar()
    });
    std::panic::set_hook(hook);
    match result {
        Ok(v) if (v - 3.0).abs() < 1e-6 => Ok(()),
        Ok(v) => anyhow::bail!("wgpu adapter computed 1 + 2 = {v}"),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown reason".into());
            anyhow::bail!(
                "no usable wgpu adapter ({reason}); install a GPU driver or Mesa's software Vulkan (apt-get install mesa-vulkan-drivers), or use --backend ndarray"
            )
        }
    }
}
