//! `dlsuite chat RUN`: talk to a trained chatbot, a question a line.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use dlsuite_rnn::Decoding;
use dlsuite_speed::TunedAutodiff;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::backend::{dispatch, BackendChoice, OnBackend};
use crate::commands::BACKEND_HELP;
use crate::run_dir::run_path;
use crate::sequence::load_chatbot;

#[derive(clap::Args)]
pub struct ChatArgs {
    /// The chatbot's run folder (artifacts/<name>) or its experiment's name,
    /// e.g. chat-seq2seq after `dlsuite train chat-seq2seq`.
    run: String,
    /// Draw each answer's characters at this temperature (above 0, at most
    /// 10) instead of taking the most likely ones.
    #[arg(long, value_name = "TEMPERATURE")]
    sample: Option<f32>,
    /// Seed of the sampled answers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
}

impl ChatArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let decoding = match self.sample {
            None => Decoding::Greedy,
            Some(t) => parse_temperature(&t.to_string())?,
        };
        dispatch(
            self.backend,
            ChatSession {
                run_dir: run_path(&self.run),
                decoding,
                seed: self.seed,
            },
        )?
    }
}

fn parse_temperature(text: &str) -> anyhow::Result<Decoding> {
    match text.trim().parse::<f32>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 10.0 => Ok(Decoding::Sampled { temperature: t }),
        _ => anyhow::bail!("temperature {text:?}: must be a number above 0 and at most 10"),
    }
}

struct ChatSession {
    run_dir: PathBuf,
    decoding: Decoding,
    seed: u64,
}

impl OnBackend for ChatSession {
    type Output = anyhow::Result<()>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<()> {
        let bot = load_chatbot::<B::InnerBackend>(&self.run_dir, &device)?;
        let mut decoding = self.decoding;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let interactive = std::io::stdin().is_terminal();
        if interactive {
            println!(
                "{}: a sequence-to-sequence chatbot; ask in English or Korean. \
                 /sample T draws answers at temperature T, /greedy takes the likeliest, \
                 an empty line or Ctrl-D ends.",
                bot.experiment.name
            );
        }
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        loop {
            if interactive {
                print!("you> ");
                std::io::stdout().flush()?;
            }
            let Some(line) = lines.next() else { break };
            let line = line?;
            let question = line.trim();
            if question.is_empty() && interactive {
                break;
            }
            if question.is_empty() || question.starts_with('#') {
                continue;
            }
            if question == "/greedy" {
                decoding = Decoding::Greedy;
                println!("(most likely answers)");
                continue;
            }
            if let Some(t) = question.strip_prefix("/sample") {
                match parse_temperature(t) {
                    Ok(d) => {
                        decoding = d;
                        println!("(answers sampled at temperature {})", t.trim());
                    }
                    Err(err) => println!("({err})"),
                }
                continue;
            }
            let reply = bot.reply(question, decoding, &mut rng, &device);
            if interactive {
                println!("bot> {reply}");
            } else {
                println!("> {question}\n{reply}");
            }
        }
        Ok(())
    }
}
