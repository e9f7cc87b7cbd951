//! One module per `dlsuite` command: its arguments and what it does.

pub mod bench;
pub mod chat;
pub mod data;
pub mod eval;
pub mod export;
pub mod import;
pub mod predict;
pub mod reproduce;
pub mod serve;
pub mod summary;
pub mod train;

/// What `--backend` takes; spelled out because a parser of our own (one
/// that says how to get a GPU backend into the build) hides clap's list.
pub const BACKEND_HELP: &str = "flex (CPU, the fastest here), ndarray (CPU), wgpu (GPU through \
     Vulkan/Metal/DX12, or Mesa's software Vulkan; needs a build with --features wgpu), cuda \
     (NVIDIA GPU; needs a build with --features cuda)";
