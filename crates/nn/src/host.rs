//! Plumbing shared by the operations this suite computes in host memory
//! for the CPU backends: handing tensors over and back, recognising the
//! backends an operation is registered for, and matrix products.

use std::any::{Any, TypeId};
use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, NdArray};
use burn::prelude::*;
use burn::tensor::{DType, TensorPrimitive};

/// A tensor's values as host `f32`s (no copy where the backend hands its
/// buffer over).
fn host_values<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .into_vec()
        .expect("data converted to f32 reads as f32")
}

/// A float tensor's values, read where they lie when the backend keeps
/// them in host memory as contiguous `f32`s (flex), else copied out. Flex
/// hands a shared tensor's data over only as a copy (two, to align it), and
/// the weights and saved activations of a layer are always shared.
pub fn read_values<I: Backend, const D: usize>(tensor: &I::FloatTensorPrimitive) -> Cow<'_, [f32]> {
    let in_place = (tensor as &dyn Any)
        .downcast_ref::<FlexTensor>()
        .and_then(|flex| flex.as_slice::<f32>());
    match in_place {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(host_values(Tensor::<I, D>::from_primitive(
            TensorPrimitive::Float(tensor.clone()),
        ))),
    }
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

/// A host operation with autodiff on an input, weights and a bias, as
/// registered for one inner backend `I` (Burn 0.21 registers autodiff
/// operations with a concrete backend). [`tracked_on_cpu`] finds `I`.
pub trait TrackedOp<const DX: usize, const DW: usize, const DY: usize> {
    fn tracked<I: Backend>(
        &self,
        x: Tensor<Autodiff<I>, DX>,
        weight: Tensor<Autodiff<I>, DW>,
        bias: Tensor<Autodiff<I>, 1>,
    ) -> Tensor<Autodiff<I>, DY>;
}

/// `op` where `B` is `Autodiff<Flex>` or `Autodiff<NdArray>` (with Burn's
/// default checkpointing), the CPU backends this suite trains on; `None`
/// for any other backend, whose caller then composes the operation from
/// tensor operations.
pub fn tracked_on_cpu<B: Backend, const DX: usize, const DW: usize, const DY: usize>(
    op: &impl TrackedOp<DX, DW, DY>,
    x: &Tensor<B, DX>,
    weight: &Tensor<B, DW>,
    bias: &Tensor<B, 1>,
) -> Option<Tensor<B, DY>> {
    tracked_as::<B, Flex, DX, DW, DY>(op, x, weight, bias)
        .or_else(|| tracked_as::<B, NdArray, DX, DW, DY>(op, x, weight, bias))
}

/// `op` if `B` is `Autodiff<I>`.
fn tracked_as<B: Backend, I: Backend, const DX: usize, const DW: usize, const DY: usize>(
    op: &impl TrackedOp<DX, DW, DY>,
    x: &Tensor<B, DX>,
    weight: &Tensor<B, DW>,
    bias: &Tensor<B, 1>,
) -> Option<Tensor<B, DY>> {
    if TypeId::of::<B>() != TypeId::of::<Autodiff<I>>() {
        return None;
    }
    let out = op.tracked::<I>(
        same_type(x.clone()),
        same_type(weight.clone()),
        same_type(bias.clone()),
    );
    Some(same_type(out))
}

/// `value` as `U`, which the caller has checked is `T`.
fn same_type<T: 'static, U: 'static>(value: T) -> U {
    *(Box::new(value) as Box<dyn Any>)
        .downcast::<U>()
        .expect("the caller compared the types")
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
/// `matrixmultiply`, the others through `gemm`: on the 2-core VM, the deep
/// MLP's weight gradients took 0.71 and 0.41 ms against gemm's 0.79 and
/// 0.54, batch-1000 products 4–10% less, while gemm was 20% faster for the
/// forward products of a batch of 100 (`784·512`, `512·512`).
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
