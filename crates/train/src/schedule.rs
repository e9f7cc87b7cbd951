use burn::optim::lr_scheduler::LrScheduler;
use burn::optim::LearningRate;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Learning-rate schedules, chosen at run time. The step counter is the
/// scheduler's whole state, so a resumed run continues the same curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    Constant {
        lr: f64,
    },
    /// Multiply by `gamma` every `every` steps.
    Step {
        lr: f64,
        gamma: f64,
        every: usize,
    },
    /// Cosine decay from `lr` to `min_lr` over `steps` steps, then flat.
    Cosine {
        lr: f64,
        min_lr: f64,
        steps: usize,
    },
}

impl LrSchedule {
    /// The first rate, which the configuration checks.
    pub fn initial(&self) -> f64 {
        match *self {
            LrSchedule::Constant { lr }
            | LrSchedule::Step { lr, .. }
            | LrSchedule::Cosine { lr, .. } => lr,
        }
    }

    /// The rate at step `t` (0-based).
    pub fn at(&self, t: usize) -> f64 {
        match *self {
            LrSchedule::Constant { lr } => lr,
            LrSchedule::Step { lr, gamma, every } => lr * gamma.powi((t / every.max(1)) as i32),
            LrSchedule::Cosine { lr, min_lr, steps } => {
                let p = (t.min(steps) as f64) / steps.max(1) as f64;
                min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * p).cos())
            }
        }
    }

    pub(crate) fn scheduler(&self) -> Scheduled {
        Scheduled {
            schedule: self.clone(),
            t: 0,
        }
    }
}

/// An [`LrSchedule`] in motion.
#[derive(Clone, Debug)]
pub(crate) struct Scheduled {
    schedule: LrSchedule,
    t: usize,
}

impl LrScheduler for Scheduled {
    type Record<B: Backend> = usize;

    fn step(&mut self) -> LearningRate {
        let lr = self.schedule.at(self.t);
        self.t += 1;
        lr
    }

    fn to_record<B: Backend>(&self) -> usize {
        self.t
    }

    fn load_record<B: Backend>(mut self, record: usize) -> Self {
        self.t = record;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_their_formulas() {
        let step = LrSchedule::Step {
            lr: 1.0,
            gamma: 0.5,
            every: 10,
        };
        assert_eq!(
            (step.at(0), step.at(9), step.at(10), step.at(25)),
            (1.0, 1.0, 0.5, 0.25)
        );
        let cos = LrSchedule::Cosine {
            lr: 1.0,
            min_lr: 0.0,
            steps: 100,
        };
        assert!((cos.at(0) - 1.0).abs() < 1e-12);
        assert!((cos.at(50) - 0.5).abs() < 1e-12);
        assert!(cos.at(100).abs() < 1e-12 && cos.at(1000).abs() < 1e-12);
    }
}
