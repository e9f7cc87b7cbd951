use std::sync::{Arc, Once};

use burn::data::dataloader::{DataLoader, DataLoaderIterator};
use burn::tensor::backend::Backend;

/// A training loader that replays the shuffles of the epochs a run already
/// finished before it hands out its first batch.
///
/// Burn's loader draws a fresh order from its seeded generator each epoch, so
/// a run restarted from epoch `k`'s checkpoint would otherwise see epoch 1's
/// order again, not epoch `k + 1`'s, and end somewhere other than the run it
/// continues. The replay happens on the first `iter()` of whichever copy is
/// used, because `to_device` forks the generator: skipping before the fork
/// would fork a different stream.
pub(crate) struct ContinuedShuffle<B: Backend, O> {
    inner: Arc<dyn DataLoader<B, O>>,
    epochs_done: usize,
    replayed: Once,
}

impl<B: Backend, O: Send + 'static> ContinuedShuffle<B, O> {
    pub(crate) fn new(inner: Arc<dyn DataLoader<B, O>>, epochs_done: usize) -> Self {
        Self {
            inner,
            epochs_done,
            replayed: Once::new(),
        }
    }
}

impl<B: Backend, O: Send + 'static> DataLoader<B, O> for ContinuedShuffle<B, O> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        self.replayed.call_once(|| {
            for _ in 0..self.epochs_done {
                // The first batch is awaited so that a worker thread has drawn
                // its order before the next one draws; the rest are dropped.
                let _ = self.inner.iter().next();
            }
        });
        self.inner.iter()
    }

    fn num_items(&self) -> usize {
        self.inner.num_items()
    }

    fn to_device(&self, device: &B::Device) -> Arc<dyn DataLoader<B, O>> {
        Arc::new(Self::new(self.inner.to_device(device), self.epochs_done))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<B, O>> {
        Arc::new(Self::new(self.inner.slice(start, end), self.epochs_done))
    }
}
