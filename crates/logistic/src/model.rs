use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};

/// One linear layer read through a sigmoid (one output, two classes) or a
/// softmax (several outputs, one per class).
#[derive(Config, Debug)]
pub struct LogisticRegressionConfig {
    pub inputs: usize,
    /// 1 for binary logistic regression, the number of classes otherwise.
    #[config(default = 1)]
    pub outputs: usize,
}

#[derive(Module, Debug)]
pub struct LogisticRegression<B: Backend> {
    linear: Linear<B>,
}

impl LogisticRegressionConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> LogisticRegression<B> {
        LogisticRegression {
            linear: LinearConfig::new(self.inputs, self.outputs).init(device),
        }
    }
}

impl<B: Backend> LogisticRegression<B> {
    /// `[batch, inputs] → [batch, outputs]`: logits.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.linear.forward(x)
    }

    /// `[batch, inputs] → [batch, outputs]`: P(class 1) when binary, the
    /// class distribution otherwise.
    pub fn probabilities(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let logits = self.forward(x);
        if self.is_binary() {
            sigmoid(logits)
        } else {
            softmax(logits, 1)
        }
    }

    pub fn is_binary(&self) -> bool {
        self.linear.weight.dims()[1] == 1
    }

    /// `[inputs, outputs]`: column `k` is what class `k` "looks for".
    pub fn weights(&self) -> Tensor<B, 2> {
        self.linear.weight.val()
    }
}
