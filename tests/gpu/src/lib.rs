//! Nothing but tests: see `tests/`. The runner's GPU backends are cargo
//! features; depending on the runner with `wgpu` turned on here puts them
//! into `cargo test --workspace` (and CI, on Mesa's software Vulkan).
