//! Picking the Burn backend at run time.

use burn::backend::wgpu::{CubeBackend, WgpuRuntime};
use burn::backend::{Autodiff, Flex, NdArray};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_cnn::ConvTraining;
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
    /// NVIDIA GPU through CUDA (build with `--features cuda`; needs the
    /// NVIDIA driver and NVRTC at run time, not at build time).
    #[cfg(feature = "cuda")]
    Cuda,
}

impl BackendChoice {
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Ndarray => "ndarray",
            BackendChoice::Flex => "flex",
            BackendChoice::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            BackendChoice::Cuda => "cuda",
        }
    }

    /// Whether the backend computes on a GPU (timings and estimates made on
    /// the CPU do not carry over).
    pub fn is_gpu(self) -> bool {
        !matches!(self, BackendChoice::Ndarray | BackendChoice::Flex)
    }

    /// The fastest of the equivalent ways to train convolutions here
    /// (`dlsuite-cnn`'s `ConvTraining` says why each backend gets its own).
    /// Per batch of 64 of the reference CNN, forward and backward: ndarray
    /// 4.4 s with its own convolution, 301 ms as im2col, 135 ms as host
    /// blocks; flex 288 ms with its own, 149 ms on pixel rows, 78 ms as host
    /// blocks (`cargo run --release -p dlsuite-cnn --example layer_timing
    /// [flex|ndarray]`, 2-core VM).
    pub fn conv_training(self) -> ConvTraining {
        if self.is_gpu() {
            ConvTraining::Backend
        } else {
            ConvTraining::Host
        }
    }

    /// Whether dropout masks are drawn on the host rather than by the
    /// backend: on the CPU backends, whose own draw is one element at a time
    /// on one thread; on a GPU a host mask would be a copy each step.
    pub fn host_dropout_masks(self) -> bool {
        !self.is_gpu()
    }

    /// Whether fully connected layers run as host operations
    /// (`dlsuite_nn::linear_on_host`): on flex, which lets them read its
    /// tensors where they lie; 4–8% off the MLPs' steps and batch-1000
    /// inference there. ndarray hands its tensors over copied value by value,
    /// which made the same layers 7 times slower; on a GPU they would be
    /// copies across the bus (`cargo run --release -p dlsuite-mlp --example
    /// step_timing [flex|ndarray]`).
    pub fn host_linears(self) -> bool {
        matches!(self, BackendChoice::Flex)
    }

    /// Whether Adam's update is computed on the host (`dlsuite-train`'s
    /// `HostAdam`): one pass over memory the CPU backends hand over, where
    /// Burn's tensor-op Adam makes thirteen; on a GPU it would be copies.
    pub fn host_adam(self) -> bool {
        !self.is_gpu()
    }

    /// Every backend this build has, in the order `--backends all` runs them.
    pub fn all() -> Vec<BackendChoice> {
        use clap::ValueEnum;
        BackendChoice::value_variants().to_vec()
    }

    /// Parses a backend's name, saying how to get `cuda` where this build
    /// lacks it.
    pub fn parse(name: &str) -> Result<BackendChoice, String> {
        use clap::ValueEnum;
        BackendChoice::from_str(name, true).map_err(|_| {
            if name.eq_ignore_ascii_case("cuda") {
                format!(
                    "backend {name:?} is not in this build; build it with the cuda feature: \
                     cargo run --release -p dlsuite --features cuda -- ... --backend cuda"
                )
            } else {
                let names: Vec<_> = BackendChoice::all().iter().map(|c| c.name()).collect();
                format!("unknown backend {name:?}; choose from {}", names.join(", "))
            }
        })
    }
}

/// The wgpu backend, without Burn's operation fusion: in Burn 0.21 fusion
/// races when burn-train's checkpoint thread reads the weights while training
/// goes on ("Should have handle for tensor", tracel-ai/burn#4947), which
/// killed every wgpu run at its first checkpoint.
pub type Wgpu = CubeBackend<WgpuRuntime, f32, i32, u32>;

/// The CUDA backend, without fusion for the same reason as [`Wgpu`].
#[cfg(feature = "cuda")]
pub type Cuda = CubeBackend<burn::cubecl::cuda::CudaRuntime, f32, i32, u8>;

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
            probe(choice)?;
            Ok(job.run::<Autodiff<Wgpu>>(Default::default()))
        }
        #[cfg(feature = "cuda")]
        BackendChoice::Cuda => {
            probe(choice)?;
            Ok(job.run::<Autodiff<Cuda>>(Default::default()))
        }
    }
}

/// Runs one tiny computation on a GPU backend; fails with a readable reason
/// when it has no device (Burn panics there). CPU backends always pass.
pub fn probe(choice: BackendChoice) -> anyhow::Result<()> {
    let (result, advice) = match choice {
        BackendChoice::Ndarray | BackendChoice::Flex => return Ok(()),
        BackendChoice::Wgpu => (
            one_plus_two::<Wgpu>(),
            "install a GPU driver or Mesa's software Vulkan (apt-get install mesa-vulkan-drivers), or use --backend flex",
        ),
        #[cfg(feature = "cuda")]
        BackendChoice::Cuda => (
            one_plus_two::<Cuda>(),
            "it needs an NVIDIA GPU, its driver (libcuda) and NVRTC (libnvrtc, from the CUDA toolkit) on the library path; or use --backend wgpu",
        ),
    };
    let name = choice.name();
    match result {
        Ok(v) if (v - 3.0).abs() < 1e-6 => Ok(()),
        Ok(v) => anyhow::bail!("{name} computed 1 + 2 = {v}"),
        Err(reason) => {
            // cudarc follows its reason with every library name it tried.
            let reason = reason.split(" - searched for").next().unwrap_or_default();
            anyhow::bail!("no usable {name} device ({reason}); {advice}")
        }
    }
}

/// 1 + 2 on backend `B`'s default device, with a panic turned into its message.
fn one_plus_two<B: Backend>() -> Result<f32, String> {
    first_panic(|| {
        let device = Default::default();
        let t = Tensor::<B, 1>::from_floats([1.0, 2.0], &device);
        t.sum().into_scalar().elem::<f32>()
    })
}

/// Runs `f`; if it panics, gives the message of the first panic seen on any
/// thread meanwhile, printing none. A GPU device is often set up on a server
/// thread, whose panic is the informative one (the caller only sees a closed
/// channel).
fn first_panic<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, String> {
    let first = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let hook = std::panic::take_hook();
    let seen = first.clone();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown reason".into());
        if let Ok(mut slot) = seen.lock() {
            slot.get_or_insert(message);
        }
    }));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    result.map_err(|_| {
        first
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_else(|| "unknown reason".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_threads_panic_is_the_reason_given() {
        let result: Result<(), String> = first_panic(|| {
            let server = std::thread::spawn(|| panic!("driver library not found"));
            let _ = server.join();
            panic!("called `Result::unwrap()` on an `Err` value: RecvError");
        });
        assert_eq!(result.unwrap_err(), "driver library not found");
        assert_eq!(first_panic(|| 3), Ok(3));
    }

    #[test]
    fn cpu_backends_need_no_probe_and_all_lists_every_backend() {
        assert!(probe(BackendChoice::Flex).is_ok());
        assert!(probe(BackendChoice::Ndarray).is_ok());
        let names: Vec<_> = BackendChoice::all().iter().map(|b| b.name()).collect();
        assert_eq!(names[..3], ["ndarray", "flex", "wgpu"]);
        assert_eq!(names.contains(&"cuda"), cfg!(feature = "cuda"));
        assert!(BackendChoice::Wgpu.is_gpu() && !BackendChoice::Flex.is_gpu());
    }

    #[test]
    fn backend_names_parse_and_a_missing_cuda_says_how_to_build_it() {
        assert_eq!(BackendChoice::parse("WGPU"), Ok(BackendChoice::Wgpu));
        let err = BackendChoice::parse("tpu").unwrap_err();
        assert!(
            err.contains("\"tpu\"") && err.contains("ndarray, flex, wgpu"),
            "{err}"
        );
        let cuda = BackendChoice::parse("cuda");
        if cfg!(feature = "cuda") {
            assert_eq!(cuda.map(|b| b.name()), Ok("cuda"));
        } else {
            assert!(cuda.unwrap_err().contains("--features cuda"));
        }
    }
}
