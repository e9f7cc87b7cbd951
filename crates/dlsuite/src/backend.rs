//! Picking the Burn backend at run time.

use std::sync::Arc;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
#[cfg(any(feature = "wgpu", feature = "cuda"))]
use burn::prelude::*;
use dlsuite_data::{DigitSet, ImageBatch, ImageBatcher};
#[cfg(feature = "cuda")]
use dlsuite_speed::Cuda;
#[cfg(feature = "wgpu")]
use dlsuite_speed::Wgpu;
use dlsuite_speed::{loader_on_device, Tuned, TunedAutodiff};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// CPU, through ndarray.
    Ndarray,
    /// CPU, through Burn's flex kernels: the faster CPU backend, so the
    /// default (docs/speed.md has the figures).
    Flex,
    /// GPU through wgpu (Vulkan, Metal, DX12), or a software Vulkan driver
    /// (build with `--features wgpu`).
    #[cfg(feature = "wgpu")]
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
            #[cfg(feature = "wgpu")]
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
            let gpu = ["wgpu", "cuda"]
                .into_iter()
                .find(|gpu| name.eq_ignore_ascii_case(gpu));
            if let Some(gpu) = gpu {
                format!(
                    "backend {gpu:?} is not in this build; build it with the {gpu} feature: \
                     just train-mnist backend={gpu}, or cargo run --release -p dlsuite \
                     --features {gpu} -- ... --backend {gpu}"
                )
            } else {
                let names: Vec<_> = BackendChoice::all().iter().map(|c| c.name()).collect();
                format!("unknown backend {name:?}; choose from {}", names.join(", "))
            }
        })
    }
}

/// `builder` with the batching thread this backend wants. On the CPU a
/// loader thread makes the next batch while the model trains; the GPU
/// backends run Burn's operation fusion, whose streams belong to the thread
/// that makes a tensor, so their batches are made on the training thread
/// (made on a loader thread, they raced: training went wrong).
pub fn batching<B, I, O>(
    builder: DataLoaderBuilder<B, I, O>,
    backend: BackendChoice,
) -> DataLoaderBuilder<B, I, O>
where
    B: burn::tensor::backend::Backend,
    I: Send + Sync + Clone + std::fmt::Debug + 'static,
    O: Send + Clone + std::fmt::Debug + 'static,
{
    if backend.is_gpu() {
        builder
    } else {
        builder.num_workers(1)
    }
}

/// The loader of a set of digit images in batches of `batch_size`
/// (shuffled each epoch from `shuffle`'s seed). A backend that keeps data
/// on the device ([`Tuned::DATA_ON_DEVICE`]) gets the whole set there at
/// once; otherwise batches are made as [`batching`] says (`ahead`: on a
/// loader thread on the CPU).
pub fn digit_loader<B: Tuned, const D: usize>(
    set: DigitSet,
    batcher: ImageBatcher<D>,
    batch_size: usize,
    shuffle: Option<u64>,
    ahead: Option<BackendChoice>,
    device: &B::Device,
) -> Arc<dyn DataLoader<B, ImageBatch<B, D>>> {
    if B::DATA_ON_DEVICE {
        if let Some(loader) = loader_on_device(&set, &batcher, batch_size, shuffle, device) {
            return loader;
        }
    }
    let builder = DataLoaderBuilder::new(batcher).batch_size(batch_size);
    let builder = match shuffle {
        Some(seed) => builder.shuffle(seed),
        None => builder,
    };
    let builder = match ahead {
        Some(backend) => batching(builder, backend),
        None => builder,
    };
    builder.set_device(device.clone()).build(set)
}

/// A job that can run on any backend the suite trains on.
pub trait OnBackend {
    type Output;
    fn run<B: TunedAutodiff>(self, device: B::Device) -> Self::Output;
}

/// Runs `job` on the chosen backend. For wgpu, first checks that an adapter
/// exists, so that a machine without one gets an error, not a panic.
pub fn dispatch<T: OnBackend>(choice: BackendChoice, job: T) -> anyhow::Result<T::Output> {
    match choice {
        BackendChoice::Ndarray => Ok(job.run::<Autodiff<NdArray>>(Default::default())),
        BackendChoice::Flex => Ok(job.run::<Autodiff<Flex>>(Default::default())),
        #[cfg(feature = "wgpu")]
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
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    if choice.is_gpu() {
        dlsuite_speed::configure_gpu_runtime();
    }
    match choice {
        BackendChoice::Ndarray | BackendChoice::Flex => Ok(()),
        #[cfg(feature = "wgpu")]
        BackendChoice::Wgpu => check_probe(
            choice,
            one_plus_two::<Wgpu>(),
            "install a GPU driver or Mesa's software Vulkan (apt-get install mesa-vulkan-drivers), or use --backend flex",
        ),
        #[cfg(feature = "cuda")]
        BackendChoice::Cuda => check_probe(
            choice,
            one_plus_two::<Cuda>(),
            "it needs an NVIDIA GPU, its driver (libcuda) and NVRTC (libnvrtc, from the CUDA toolkit) on the library path; or use --backend wgpu",
        ),
    }
}

/// The probe's verdict on what a GPU computed for 1 + 2.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn check_probe(
    choice: BackendChoice,
    result: Result<f32, String>,
    advice: &str,
) -> anyhow::Result<()> {
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
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn one_plus_two<B: Backend>() -> Result<f32, String> {
    first_panic(|| {
        let device = Default::default();
        let t = Tensor::<B, 1>::from_floats([1.0, 2.0], &device);
        t.sum().into_scalar().elem::<f32>()
    })
}

#[cfg(any(feature = "wgpu", feature = "cuda", test))]
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
        assert_eq!(names[..2], ["ndarray", "flex"]);
        assert_eq!(names.contains(&"wgpu"), cfg!(feature = "wgpu"));
        assert_eq!(names.contains(&"cuda"), cfg!(feature = "cuda"));
        assert!(!BackendChoice::Flex.is_gpu() && !BackendChoice::Ndarray.is_gpu());
    }

    #[test]
    fn backend_names_parse_and_a_missing_gpu_says_how_to_build_it() {
        assert_eq!(BackendChoice::parse("FLEX"), Ok(BackendChoice::Flex));
        let err = BackendChoice::parse("tpu").unwrap_err();
        assert!(
            err.contains("\"tpu\"") && err.contains("ndarray, flex"),
            "{err}"
        );
        for (gpu, built) in [
            ("wgpu", cfg!(feature = "wgpu")),
            ("cuda", cfg!(feature = "cuda")),
        ] {
            let parsed = BackendChoice::parse(gpu);
            if built {
                assert_eq!(parsed.map(|b| b.name()), Ok(gpu));
            } else {
                let err = parsed.unwrap_err();
                assert!(err.contains(&format!("--features {gpu}")), "{err}");
                assert!(err.contains(&format!("backend={gpu}")), "{err}");
            }
        }
    }
}
