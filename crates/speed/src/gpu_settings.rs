//! CubeCL's settings for the GPU backends, made once before the first GPU
//! computation. Autotune times each kernel's variants for every shape it
//! meets, for minutes on a first CUDA run; its results are kept in the
//! user's cache directory, so a shape is timed once per machine and survives
//! `cargo clean` and fresh clones, and shapes are grouped coarsely (CubeCL's
//! `minimal` level), so that a first run times few of them.
//!
//! A `cubecl.toml` or `burn.toml` of the user's wins over both, and
//! `CUBECL_AUTOTUNE_LEVEL` over the level.

use std::path::PathBuf;
use std::sync::Once;

use burn::cubecl::config::autotune::AutotuneLevel;
use burn::cubecl::config::cache::CacheConfig;
use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

/// Where the autotune results go.
pub fn autotune_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("dlsuite").join("cubecl"))
}

/// Sets CubeCL's settings unless something has read or set them already;
/// later calls do nothing.
pub fn configure_gpu_runtime() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if CubeClRuntimeConfig::storage().lock().is_some() {
            return;
        }
        let found = CubeClRuntimeConfig::from_current_dir();
        let users_own = format!("{found:?}") != format!("{:?}", CubeClRuntimeConfig::default());
        let mut config = found;
        if !users_own {
            if let Some(dir) = autotune_cache_dir() {
                config.autotune.cache = CacheConfig::File(dir);
            }
            config.autotune.level = AutotuneLevel::Minimal;
        }
        let config = config.override_from_env();
        // Between the check above and here nothing else runs CubeCL: this
        // is called before the first device is made.
        CubeClRuntimeConfig::set(config);
    });
}
