//! Alone in its own test binary: the backend's generator is one per process,
//! and any other test drawing from it between the seed and the draws (a
//! random tensor, a net's initialisation) would change the masks.

use burn::backend::{Autodiff, NdArray};
use burn::nn::DropoutConfig;
use burn::prelude::*;
use dlsuite_speed::dropout_on_host;

type B = Autodiff<NdArray>;

#[test]
fn host_masks_follow_the_backend_seed() {
    let device = Default::default();
    let dropout = DropoutConfig::new(0.5).init();
    let draw = || dropout_on_host(&dropout, Tensor::<B, 2>::ones([200, 500], &device)).into_data();
    B::seed(&device, 11);
    let (first, second) = (draw(), draw());
    B::seed(&device, 11);
    draw().assert_eq(&first, true);
    assert_ne!(first, second, "consecutive masks must differ");
}
