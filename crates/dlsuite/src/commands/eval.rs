//! `dlsuite eval RUN`: reload a run's model and measure its test accuracy
//! again, redrawing its pictures.

use std::path::PathBuf;

use dlsuite_data::Locator;
use dlsuite_speed::TunedAutodiff;

use crate::backend::{dispatch, BackendChoice, OnBackend};
use crate::commands::BACKEND_HELP;
use crate::evaluate::{evaluate, Evaluation};
use crate::pictures::{draw_run_pictures, report_pictures};
use crate::run_dir::{load_run, read_metrics, read_summary, run_path};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The run folder (artifacts/<name>) or an experiment name.
    run: String,
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl EvalArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let job = EvalJob {
            run_dir: run_path(&self.run),
            data_dir: self.data_dir,
        };
        dispatch(self.backend, job)??;
        Ok(())
    }
}

/// Reloads a run's model and measures it on the test set again.
pub struct EvalJob {
    pub run_dir: PathBuf,
    pub data_dir: Option<PathBuf>,
}

impl OnBackend for EvalJob {
    type Output = anyhow::Result<Evaluation>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<Evaluation> {
        let (config, net) = load_run::<B::InnerBackend>(&self.run_dir, &device)?;
        let kind = config.dataset.kind();
        let (_, test) = Locator::new(kind, self.data_dir).load()?;
        let evaluation = evaluate(&net, &test, kind, &device);
        let recorded = read_summary(&self.run_dir).ok();
        print!(
            "{}: test accuracy {:.2}% (loss {:.4}) on {} {} images",
            config.name,
            evaluation.accuracy,
            evaluation.loss,
            test.len(),
            kind.name()
        );
        match recorded {
            Some(s) => println!("; the run recorded {:.2}%", s.test_accuracy),
            None => println!(),
        }
        let epochs = read_metrics(&self.run_dir).unwrap_or_default();
        report_pictures(draw_run_pictures(
            &self.run_dir,
            &config.name,
            kind,
            &net,
            &test,
            &evaluation.predictions,
            &epochs,
        ));
        Ok(evaluation)
    }
}
