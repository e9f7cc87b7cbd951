//! `dlsuite export RUN`: a run's weights as a safetensors file under the
//! names the PyTorch reference script gives them.

use std::path::PathBuf;

use anyhow::Context;
use burn::backend::NdArray;

use crate::portable::{export_safetensors, TorchNames};
use crate::run_dir::{load_run, run_path};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// safetensors, which `safetensors.torch.load_file` reads.
    Safetensors,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The run folder (artifacts/<name>) or an experiment name.
    run: String,
    #[arg(long, value_enum, default_value = "safetensors")]
    format: Format,
    /// Where to write (default: model.safetensors in the run folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the file if it exists.
    #[arg(long)]
    overwrite: bool,
}

impl ExportArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let Format::Safetensors = self.format;
        let dir = run_path(&self.run);
        let (config, net) = load_run::<NdArray>(&dir, &Default::default())?;
        let names = TorchNames::of(&config.model)
            .with_context(|| format!("{}: cannot export {}", dir.display(), config.name))?;
        let out = self.out.unwrap_or_else(|| dir.join("model.safetensors"));
        anyhow::ensure!(
            self.overwrite || !out.exists(),
            "{}: exists; add --overwrite to replace it",
            out.display()
        );
        export_safetensors(&net, &names, &out, &config.name)?;
        println!(
            "{}: {}'s weights as {}: {}",
            out.display(),
            config.name,
            names.torch,
            names.torch_tensors().join(", ")
        );
        println!(
            "in PyTorch: net.load_state_dict(safetensors.torch.load_file({:?}))",
            out.display().to_string()
        );
        Ok(())
    }
}
