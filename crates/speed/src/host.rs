//! Plumbing shared by the operations computed in host memory for the CPU
//! backends: handing tensors over and back, the backends an operation runs
//! on (chosen by type), and matrix products.

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::ops::{Backward, OpsKind};
use burn::backend::{Autodiff, Flex, NdArray};
use burn::prelude::*;
use burn::tensor::backend::BackendTypes;
use burn::tensor::{DType, TensorPrimitive};

/// A CPU backend: its float tensors are host memory that host operations
/// read, and host vectors become its tensors.
pub trait HostBackend: Backend {
    /// A float tensor's values as `f32`s, read where they lie if the
    /// backend allows it.
    fn values<const D: usize>(tensor: &Self::FloatTensorPrimitive) -> Cow<'_, [f32]>;
}

/// Flex keeps contiguous `f32`s that can be borrowed as they are; handing a
/// shared tensor's data over would copy it (twice, to align it), and the
/// weights and saved activations of a layer are always shared.
impl HostBackend for Flex {
    fn values<const D: usize>(tensor: &Self::FloatTensorPrimitive) -> Cow<'_, [f32]> {
        match tensor.as_slice::<f32>() {
            Some(values) => Cow::Borrowed(values),
            None => Cow::Owned(copied_values::<Flex, D>(tensor)),
        }
    }
}

impl HostBackend for NdArray {
    fn values<const D: usize>(tensor: &Self::FloatTensorPrimitive) -> Cow<'_, [f32]> {
        Cow::Owned(copied_values::<NdArray, D>(tensor))
    }
}

/// A tensor's values copied out as `f32`s.
fn copied_values<I: Backend, const D: usize>(tensor: &I::FloatTensorPrimitive) -> Vec<f32> {
    Tensor::<I, D>::from_primitive(TensorPrimitive::Float(tensor.clone()))
        .into_data()
        .convert::<f32>()
        .into_vec()
        .expect("data converted to f32 reads as f32")
}

/// Host values as a tensor primitive of `dtype`, for registering outputs
/// and gradients with autodiff. Flex takes the vector without a copy.
pub fn primitive<I: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    dtype: DType,
    device: &I::Device,
) -> I::FloatTensorPrimitive {
    let data = TensorData::new(values, shape).convert_dtype(dtype);
    Tensor::<I, D>::from_data(data, device)
        .into_primitive()
        .tensor()
}

/// An operation on an input, weights and a bias computed in host memory:
/// with autodiff (Burn 0.21 registers a backward step with a concrete inner
/// backend) for training, and without for inference.
pub trait HostOp<const DX: usize, const DW: usize, const DY: usize> {
    fn tracked<I: HostBackend>(
        &self,
        x: Tensor<Autodiff<I>, DX>,
        weight: Tensor<Autodiff<I>, DW>,
        bias: Tensor<Autodiff<I>, 1>,
    ) -> Tensor<Autodiff<I>, DY>;

    fn untracked<I: HostBackend>(
        &self,
        x: Tensor<I, DX>,
        weight: Tensor<I, DW>,
        bias: Tensor<I, 1>,
    ) -> Tensor<I, DY>;
}

/// The backends host operations run on: the CPU backends, with autodiff
/// (Burn's default checkpointing) and without.
pub trait OnHost: Backend {
    fn host_op<const DX: usize, const DW: usize, const DY: usize>(
        op: &impl HostOp<DX, DW, DY>,
        x: Tensor<Self, DX>,
        weight: Tensor<Self, DW>,
        bias: Tensor<Self, 1>,
    ) -> Tensor<Self, DY>;
}

impl<I: HostBackend> OnHost for Autodiff<I> {
    fn host_op<const DX: usize, const DW: usize, const DY: usize>(
        op: &impl HostOp<DX, DW, DY>,
        x: Tensor<Self, DX>,
        weight: Tensor<Self, DW>,
        bias: Tensor<Self, 1>,
    ) -> Tensor<Self, DY> {
        op.tracked(x, weight, bias)
    }
}

macro_rules! untracked_on_host {
    ($($backend:ty),*) => {$(
        impl OnHost for $backend {
            fn host_op<const DX: usize, const DW: usize, const DY: usize>(
                op: &impl HostOp<DX, DW, DY>,
                x: Tensor<Self, DX>,
                weight: Tensor<Self, DW>,
                bias: Tensor<Self, 1>,
            ) -> Tensor<Self, DY> {
                op.untracked(x, weight, bias)
            }
        }
    )*};
}

untracked_on_host!(Flex, NdArray);

/// Host values as a tensor of `dtype`, an operation's result without
/// autodiff.
pub(crate) fn tensor<I: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    dtype: DType,
    device: &I::Device,
) -> Tensor<I, D> {
    Tensor::from_primitive(TensorPrimitive::Float(primitive::<I, D>(
        values, shape, dtype, device,
    )))
}

/// `output` registered with autodiff as what `step` computed from
/// `parents`; `state()`, what its backward pass reads, is kept only when a
/// parent is tracked.
pub(crate) fn register<I: Backend, S: Backward<I, 3>, const D: usize>(
    step: S,
    parents: [&<Autodiff<I> as BackendTypes>::FloatTensorPrimitive; 3],
    output: I::FloatTensorPrimitive,
    state: impl FnOnce() -> S::State,
) -> Tensor<Autodiff<I>, D> {
    let nodes = parents.map(|p| p.node.clone());
    let output = match step
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state(), output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    Tensor::from_primitive(TensorPrimitive::Float(output))
}

/// The primitives of a float tensor.
pub(crate) fn float<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> B::FloatTensorPrimitive {
    tensor.into_primitive().tensor()
}

/// A matrix in a slice: `rows × cols`, element (i, j) at
/// `i·row_stride + j·col_stride`.
#[derive(Clone, Copy)]
pub struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// Row-major.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    pub fn transposed(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside the slice.
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// Products at least this large (multiply-adds) are shared among threads,
/// smaller ones run on the calling thread, where splitting costs more than
/// it saves. The same threshold flex uses.
const PARALLEL_WORK: usize = 192 * 192 * 192;

/// Who computes a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// The calling thread: for callers that share their work among threads.
    One,
    /// The rayon pool, when the product is large enough to gain from it.
    Pool,
}

/// `out (+)= lhs · rhs`, `out` row-major.
///
/// Shared among threads, a product whose inner size is at most its number
/// of rows (weight gradients, batch-1000 inference) runs through
/// `matrixmultiply`, which measured faster for those shapes; the others
/// (the forward products of a training batch) through `gemm`, faster there.
pub fn matmul(lhs: Matrix, rhs: Matrix, out: &mut [f32], accumulate: bool, threads: Threads) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert!(
        rhs.rows == k && lhs.fits() && rhs.fits() && out.len() == m * n,
        "matrix sizes do not match"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let shared = threads == Threads::Pool && m * n * k >= PARALLEL_WORK;
    if shared && k <= m {
        let beta = if accumulate { 1.0 } else { 0.0 };
        // SAFETY: as for gemm below; with beta 0, matrixmultiply writes
        // `out` without reading it.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                lhs.data.as_ptr(),
                lhs.row_stride as isize,
                lhs.col_stride as isize,
                rhs.data.as_ptr(),
                rhs.row_stride as isize,
                rhs.col_stride as isize,
                beta,
                out.as_mut_ptr(),
                n as isize,
                1,
            );
        }
        return;
    }
    let parallelism = if shared {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assertion above keeps every element gemm reads inside
    // `lhs` and `rhs`, and every element it writes inside `out`, which is
    // borrowed mutably and so overlaps neither.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
