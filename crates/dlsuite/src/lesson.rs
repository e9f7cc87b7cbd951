//! Running a lesson experiment and keeping what it showed.

use std::path::PathBuf;
use std::time::Instant;

use dlsuite_data::{Kind, Locator};
use dlsuite_speed::TunedAutodiff;
use serde::{Deserialize, Serialize};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{BackendChoice, OnBackend};
use crate::experiment::LessonExperiment;
use crate::pictures::report_pictures;
use crate::run_folder::{open_run, record_pictures, RunKind, RunRequest, WriteMode, MARKER_FILE};

/// What a finished lesson reports, saved as `lesson.json` (with its full
/// record beside these fields).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LessonSummary {
    pub name: String,
    pub lecture: String,
    pub headline: String,
    pub as_lectured: bool,
    pub backend: String,
    pub wall_seconds: f64,
    pub git_revision: String,
}

#[derive(Serialize)]
struct LessonFile<'a> {
    #[serde(flatten)]
    summary: &'a LessonSummary,
    lesson: &'a dlsuite_lessons::LessonConfig,
    record: serde_json::Value,
}

pub struct LessonJob {
    pub experiment: LessonExperiment,
    pub backend: BackendChoice,
    pub run_dir: PathBuf,
    /// MNIST's folder, for the lessons that train on it (found as training
    /// runs find it when absent).
    pub mnist_dir: Option<PathBuf>,
    /// Lessons have no checkpoints: `Resume` is not one of the choices.
    pub mode: WriteMode,
}

impl OnBackend for LessonJob {
    type Output = anyhow::Result<LessonSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<LessonSummary> {
        let started = Instant::now();
        let e = &self.experiment;
        let request = RunRequest {
            experiment: e.name.clone(),
            kind: RunKind::Lesson,
            backend: self.backend.name().into(),
            optimizer_state: None,
            settings: serde_json::to_value(e)?,
        };
        // Data first: a missing dataset leaves no half-made run folder.
        let mnist_train = match e.lesson.needs_mnist() {
            true => Some(Locator::new(Kind::Mnist, self.mnist_dir.clone()).load()?.0),
            false => None,
        };
        let mut open = open_run(&self.run_dir, &request, self.mode)?;
        write_json(&self.run_dir.join(MARKER_FILE), &open.marker)?;
        let outcome = dlsuite_lessons::run::<B>(
            &e.lesson,
            &device,
            mnist_train.as_ref(),
            Some(&self.run_dir),
        )?;
        let summary = LessonSummary {
            name: e.name.clone(),
            lecture: e.lecture.clone(),
            headline: outcome.headline,
            as_lectured: outcome.as_lectured,
            backend: self.backend.name().into(),
            wall_seconds: started.elapsed().as_secs_f64(),
            git_revision: git_revision(),
        };
        write_json(
            &self.run_dir.join("lesson.json"),
            &LessonFile {
                summary: &summary,
                lesson: &e.lesson,
                record: outcome.record,
            },
        )?;
        println!(
            "{}: {} [{}] ({:.1} s)",
            summary.name,
            summary.headline,
            crate::artifacts::verdict_words(summary.as_lectured),
            summary.wall_seconds
        );
        record_pictures(&self.run_dir, &mut open.marker, &outcome.pictures)?;
        report_pictures(Ok(outcome.pictures));
        Ok(summary)
    }
}
