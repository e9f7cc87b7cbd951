# Recipes for the suite. `just --list` shows them.

backend := "flex"

# Runs `dlsuite COMMAND --backend BACKEND ARGS` from a release build. BACKEND may
# come as `backend=wgpu` too (`just train-mnist backend=wgpu`); the GPU backends
# (wgpu, cuda) build the runner with their feature, the CPU ones are always in.
[private]
dlsuite backend command *args:
    cargo run --release -p dlsuite {{ if trim_start_match(backend, "backend=") =~ "^(wgpu|cuda)$" { "--features " + trim_start_match(backend, "backend=") } else { "" } }} -- {{command}} --backend {{ trim_start_match(backend, "backend=") }} {{args}}

# Train the main MNIST CNN and print its test accuracy.
train-mnist backend=backend *args="": (dlsuite backend "train mnist-cnn" args)

# Train any experiment in experiments/ (by name).
train experiment backend=backend *args="": (dlsuite backend "train " + experiment args)

# Run experiments (all, a group: lessons/mnist/compare/fashion/generative/sequences, or one name) and write artifacts/REPORT.md.
reproduce which="all" backend=backend *args="": (dlsuite backend "reproduce " + which args)

# Reload a finished run and measure its test accuracy again.
eval run backend=backend: (dlsuite backend "eval " + run)

# Classify picture files with a trained run (add --show DIR to see what the model saw).
predict run +images:
    cargo run --release -p dlsuite -- predict {{run}} {{images}}

# The web page: draw digits for a trained model, browse the runs and the report (http://127.0.0.1:8080/).
serve *args="":
    cargo run --release -p dlsuite -- serve {{args}}

# A run's weights as safetensors under PyTorch's names; PyTorch's weights as a run.
export-weights run *args="":
    cargo run --release -p dlsuite -- export {{run}} {{args}}
import-weights file experiment *args="":
    cargo run --release -p dlsuite -- import {{file}} --experiment {{experiment}} {{args}}

# Inspect MNIST and Fashion-MNIST: counts, histograms, pixel stats, load time.
data *args="":
    cargo run --release -p dlsuite -- data {{args}}

# Speed of the reference models per backend (add --torch .venv-torch/bin/python for PyTorch side by side).
bench *args="":
    cargo run --release -p dlsuite {{ if args =~ "cuda" { "--features cuda,wgpu" } else if args =~ "wgpu|all" { "--features wgpu" } else { "" } }} -- bench {{args}}

# The test suite (CPU, offline).
test:
    cargo test --workspace

# Formatting and lints, as CI would want them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p dlsuite --all-targets --features wgpu,cuda -- -D warnings
