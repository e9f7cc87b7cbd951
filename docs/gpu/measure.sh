#!/usr/bin/env bash
# Issue 25's measurements, in one command on a lent GPU machine (the device
# tool's `run`), with a binary built on the development machine:
#
#   cargo build --release -p dlsuite --features wgpu,cuda
#   mkdir -p gpu-run && echo /gpu-run/ >> .git/info/exclude
#   cp target/release/dlsuite gpu-run/ && cp -r ../shared/data/mnist gpu-run/
#   git rev-parse --short HEAD > gpu-run/commit
#   # the Vulkan loader, if the machine lacks it (see the device tool's README):
#   (cd gpu-run && apt-get download libvulkan1)
#
# then run(command="bash docs/gpu/measure.sh", carry=["gpu-run"], timeout_s=560).
# Everything it prints also goes to $OUT: the CUDA run first, from an empty
# autotune cache (its first epoch is the figure asked for), then the main
# command on wgpu, then the bench beside PyTorch on CUDA.
set -uo pipefail
cd "$(dirname "$0")/../.."
run=gpu-run
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
for deb in "$run"/*.deb; do [ -e "$deb" ] && dpkg -x "$deb" /; done
ldconfig
nvrtc=$(ls -d /usr/local/cuda*/targets/x86_64-linux/lib 2>/dev/null | head -n 1)
export LD_LIBRARY_PATH=${nvrtc}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export RUST_BACKTRACE=1
{
    echo "commit $(cat "$run/commit" 2>/dev/null)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())' 2>&1
} | tee "$out/device.txt"
rm -rf ~/.cache/dlsuite/cubecl /tmp/runs

timed() { # NAME SECONDS COMMAND...: runs it under a limit, output to $out/NAME.log
    local name=$1 limit=$2
    shift 2
    echo "== $name: $*"
    local begun=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - begun)) s" | tee -a "$out/$name.log"
}

timed train-cuda 200 "$run/dlsuite" train mnist-cnn --backend cuda --plain \
    --data-dir "$run/mnist" --run-dir /tmp/runs/cnn-cuda
timed train-wgpu 150 "$run/dlsuite" train mnist-cnn --backend wgpu --plain \
    --data-dir "$run/mnist" --run-dir /tmp/runs/cnn-wgpu
timed bench 180 "$run/dlsuite" bench --backends wgpu,cuda --fraction 1 \
    --mnist-dir "$run/mnist" --torch python3 --reference docs/gpu/pytorch_cuda_mnist.py
cp /tmp/runs/cnn-cuda/metrics.jsonl "$out/metrics-cuda.jsonl" 2>/dev/null
cp /tmp/runs/cnn-wgpu/metrics.jsonl "$out/metrics-wgpu.jsonl" 2>/dev/null
