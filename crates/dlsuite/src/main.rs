use clap::{Parser, Subcommand};
use dlsuite::commands::{
    bench, chat, data, eval, export, import, predict, reproduce, serve, summary, train,
};

/// Training allocates and frees tensors of megabytes every step. glibc's
/// malloc hands such blocks back to the kernel, so each step page-faults
/// them in again; mimalloc keeps them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands-on deep learning with Burn: the classic course's models, trained on
/// the CPU or the GPU.
#[derive(Parser)]
#[command(name = "dlsuite", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an experiment: a name from experiments/ or a path to a TOML file.
    Train(train::TrainArgs),
    /// Run experiments and write artifacts/REPORT.md: `all`, a group
    /// (lessons, mnist, compare, fashion, generative, sequences) or one
    /// experiment's name.
    Reproduce(reproduce::ReproduceArgs),
    /// Time training and inference of the reference models on each backend,
    /// with the PyTorch reference script's settings.
    Bench(bench::BenchArgs),
    /// Reload a run's trained model and measure its test accuracy again.
    Eval(eval::EvalArgs),
    /// Write a run's weights as safetensors under PyTorch's names (the
    /// reference script's softmax, MLPs and CNN).
    Export(export::ExportArgs),
    /// Load PyTorch-trained weights (safetensors or .pt) into an
    /// experiment's net, save them as a run and score it on the test set.
    Import(import::ImportArgs),
    /// Classify picture files (PNG, JPEG, ...; any size, colour or polarity).
    Predict(predict::PredictArgs),
    /// Talk to a trained chatbot (a [chat] experiment's run), a question a line.
    Chat(chat::ChatArgs),
    /// Serve a web page to draw digits for a trained model, the runs'
    /// figures and the report, and a predict API (on this machine only,
    /// unless --host says otherwise).
    Serve(serve::ServeArgs),
    /// Print an experiment's parameter count per layer and in total.
    Summary(summary::SummaryArgs),
    /// Print counts, class histogram, pixel statistics and a sample of a dataset.
    Data(data::DataArgs),
}

fn main() {
    let result = match Cli::parse().command {
        Command::Train(args) => args.run(),
        Command::Reproduce(args) => args.run(),
        Command::Bench(args) => args.run(),
        Command::Eval(args) => args.run(),
        Command::Export(args) => args.run(),
        Command::Import(args) => args.run(),
        Command::Predict(args) => args.run(),
        Command::Chat(args) => args.run(),
        Command::Serve(args) => args.run(),
        Command::Summary(args) => args.run(),
        Command::Data(args) => args.run(),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
