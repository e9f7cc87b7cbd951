//! `dlsuite summary EXPERIMENT`: parameters per layer and in total.

use burn::backend::NdArray;
use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

use anyhow::Context;
use dlsuite_autoencoder::Autoencoder;
use dlsuite_gan::{Discriminator, Generator};
use dlsuite_rnn::{ChatNet, LanguageModel};

use crate::experiment::{load_experiment, Experiment};
use crate::memory::{check_fits, Use};
use crate::net::{build_net, describe};
use crate::sequence::SequenceExperiment;

#[derive(clap::Args)]
pub struct SummaryArgs {
    experiment: String,
}

impl SummaryArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let experiment = &self.experiment;
        let config = match load_experiment(experiment)? {
            Experiment::Training(config) => config,
            Experiment::Lesson(_) => {
                anyhow::bail!("{experiment} is a lesson: it has no single model to summarise")
            }
            Experiment::Ensemble(e) => anyhow::bail!(
                "{experiment} is an ensemble: summarise its members ({})",
                e.members
                    .iter()
                    .map(|m| m.experiment.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Experiment::Autoencoder(a) => {
                let net: Autoencoder<NdArray> = a.model_config().init(&Default::default());
                print_summary(
                    &format!(
                        "{} ({:?} autoencoder, {}-value code)",
                        a.name, a.autoencoder.layout, a.autoencoder.code
                    ),
                    &net,
                );
                return Ok(());
            }
            Experiment::Gan(g) => {
                let config = g.model_config();
                let kind = if g.gan.conditional {
                    "conditional GAN"
                } else {
                    "GAN"
                };
                let device = Default::default();
                let generator: Generator<NdArray> = config.init_generator(&device);
                let discriminator: Discriminator<NdArray> = config.init_discriminator(&device);
                let title =
                    |net: &str| format!("{} ({:?} {kind}): the {net}", g.name, g.gan.layout);
                print_summary(&title("generator"), &generator);
                println!();
                print_summary(&title("discriminator"), &discriminator);
                return Ok(());
            }
            Experiment::Sequence(SequenceExperiment::Language(l)) => {
                let net: LanguageModel<NdArray> = l.model_config().init(&Default::default());
                let kind = format!(
                    "{:?} language model over {:?}",
                    l.language.cell, l.language.corpus
                );
                print_summary(&format!("{} ({kind})", l.name), &net);
                return Ok(());
            }
            Experiment::Sequence(SequenceExperiment::Chat(c)) => {
                let net: ChatNet<NdArray> = c.untrained(&Default::default())?;
                print_summary(
                    &format!("{} (sequence-to-sequence chatbot with attention)", c.name),
                    &net,
                );
                return Ok(());
            }
        };
        check_fits(&config.model, Use::Inference)
            .with_context(|| format!("experiment {}", config.name))?;
        let net = build_net::<NdArray>(&config.model, &Default::default());
        print_summary(
            &format!("{} ({})", config.name, describe(&config.model)),
            &net,
        );
        Ok(())
    }
}

/// Counts parameters by the module that holds them.
#[derive(Default)]
struct Counter {
    path: Vec<String>,
    layers: Vec<(String, usize)>,
}

impl<B: Backend> ModuleVisitor<B> for Counter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // The innermost name is the tensor's own (weight, bias); the layer is above it.
        let depth = self.path.len().saturating_sub(1);
        let layer = self.path[..depth].join(".");
        let n = param.val().shape().num_elements();
        match self.layers.last_mut() {
            Some((name, count)) if *name == layer => *count += n,
            _ => self.layers.push((layer, n)),
        }
    }
}

/// Prints each layer's parameter count and the total; returns the total.
pub fn print_summary<B: Backend, M: Module<B>>(title: &str, model: &M) -> usize {
    let mut counter = Counter::default();
    model.visit(&mut counter);
    println!("{title}");
    let width = counter
        .layers
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(5)
        .max(5);
    for (name, count) in &counter.layers {
        println!("  {name:<width$}  {count:>10}");
    }
    let total: usize = counter.layers.iter().map(|(_, c)| c).sum();
    println!("  {:<width$}  {total:>10}", "total");
    total
}
