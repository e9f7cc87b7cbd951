use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::train::ClassificationOutput;

/// Cross-entropy of `logits` `[batch, classes]` against class indices
/// `[batch]`, packaged for burn-train's accuracy and loss metrics. Every
/// classifier's train and validation steps go through here.
pub fn classification_output<B: Backend>(
    logits: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
) -> ClassificationOutput<B> {
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    ClassificationOutput {
        loss,
        output: logits,
        targets,
    }
}
