use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

/// Gradient descent on the whole data set at once, the loop of the early
/// lessons. `on_step(step, model, loss)` sees the model after `step` updates
/// (step 0 is the initial model) and its loss; the loop makes `steps` updates.
pub fn full_batch_descent<B, M, O>(
    mut model: M,
    mut optimizer: O,
    lr: f64,
    steps: usize,
    loss_fn: impl Fn(&M) -> Tensor<B, 1>,
    mut on_step: impl FnMut(usize, &M, f32),
) -> M
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    for step in 0..=steps {
        let loss = loss_fn(&model);
        on_step(step, &model, loss.clone().into_scalar().elem());
        if step == steps {
            break;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
    }
    model
}
