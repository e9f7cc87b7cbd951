# Recipes for the suite. `just --list` shows them.

backend := "flex"

# Train the main MNIST CNN and print its test accuracy.
train-mnist backend=backend *args="":
    cargo run --release -p dlsuite -- train mnist-cnn --backend {{backend}} {{args}}

# Train any experiment in experiments/ (by name).
train experiment backend=backend *args="":
    cargo run --release -p dlsuite -- train {{experiment}} --backend {{backend}} {{args}}

# Run experiments (all, a group: lessons/mnist/compare/fashion, or one name) and write artifacts/REPORT.md.
reproduce which="all" backend=backend *args="":
    cargo run --release -p dlsuite -- reproduce {{which}} --backend {{backend}} {{args}}

# Reload a finished run and measure its test accuracy again.
eval run backend=backend:
    cargo run --release -p dlsuite -- eval {{run}} --backend {{backend}}

# Classify picture files with a trained run (add --show DIR to see what the model saw).
predict run +images:
    cargo run --release -p dlsuite -- predict {{run}} {{images}}

# Inspect MNIST and Fashion-MNIST: counts, histograms, pixel stats, load time.
data *args="":
    cargo run --release -p dlsuite -- data {{args}}

# Speed of the reference models per backend (add --torch .venv-torch/bin/python for PyTorch side by side).
bench *args="":
    cargo run --release -p dlsuite -- bench {{args}}

# The test suite (CPU, offline).
test:
    cargo test --workspace

# Formatting and lints, as CI would want them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
