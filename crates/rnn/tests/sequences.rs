//! The language model and the chatbot on ndarray: their documented shapes,
//! that the batches hold what the steps need, and that training on tiny
//! data brings the loss down and teaches what it should (the hello lab's
//! continuation; two answers told apart by their questions).

use burn::backend::{Autodiff, NdArray};
use burn::data::dataloader::batcher::Batcher;
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::train::TrainStep;
use dlsuite_data::text::{Pair, Vocab, BOS, EOS, HELLO, PAD};
use dlsuite_rnn::{
    answer, answer_output, continue_tokens, encode_pair, next_token_accuracy, next_token_output,
    predict_each, Cell, ChatNetConfig, Decoding, LanguageModelConfig, PairBatch, PairBatcher,
    TokenBatch, TokenBatcher,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

type Train = Autodiff<NdArray>;

#[test]
fn a_language_model_scores_every_next_token() {
    let device = Default::default();
    for cell in [Cell::Rnn, Cell::Lstm] {
        let net = LanguageModelConfig::new(7, cell)
            .with_hidden(12)
            .init::<NdArray>(&device);
        assert_eq!((net.vocab(), net.hidden(), net.cell()), (7, 12, cell));
        let tokens = Tensor::<NdArray, 2, Int>::from_ints([[0, 1, 2, 3], [4, 5, 6, 0]], &device);
        let (logits, carry) = net.forward(tokens.clone(), None);
        assert_eq!(logits.dims(), [2, 4, 7]);
        assert_eq!(carry.hidden.dims(), [2, 12]);
        assert_eq!(carry.cell.is_some(), cell == Cell::Lstm);
        // Reading the last step from the carry gives what reading it all at once gave.
        let (_, carry) = net.forward(tokens.clone().slice([0..2, 0..3]), None);
        let (last, _) = net.forward(tokens.slice([0..2, 3..4]), Some(carry));
        let whole = logits.slice([0..2, 3..4]);
        let gap: f32 = (last - whole).abs().max().into_scalar();
        assert!(gap < 1e-5, "{cell:?}: carried state differs by {gap}");
    }
}

/// Dropout changes what the model says while it trains and never when it
/// writes: generation runs on the inner backend, without autodiff.
#[test]
fn a_language_models_dropout_acts_only_while_training() {
    let device = Default::default();
    Train::seed(&device, 3);
    let net = LanguageModelConfig::new(7, Cell::Lstm)
        .with_hidden(16)
        .with_dropout(0.5)
        .init::<Train>(&device);
    let tokens = Tensor::<Train, 2, Int>::from_ints([[0, 1, 2, 3, 4, 5]], &device);
    let (a, _) = net.forward(tokens.clone(), None);
    let (b, _) = net.forward(tokens.clone(), None);
    let gap: f32 = (a - b).abs().max().into_scalar();
    assert!(
        gap > 1e-3,
        "training passes agree to {gap}: nothing was dropped"
    );
    let valid = net.valid();
    let tokens = tokens.inner();
    let (a, _) = valid.forward(tokens.clone(), None);
    let (b, _) = valid.forward(tokens, None);
    let gap: f32 = (a - b).abs().max().into_scalar();
    assert!(gap == 0.0, "generation passes differ by {gap}");
}

#[test]
fn token_batches_pair_each_input_with_its_successor() {
    let device = Default::default();
    let batch: TokenBatch<NdArray> =
        TokenBatcher.batch(vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8]], &device);
    assert_eq!(batch.inputs.dims(), [2, 3]);
    let targets: Vec<i64> = batch.targets.into_data().iter::<i64>().collect();
    assert_eq!(targets, [2, 3, 4, 6, 7, 8]);
}

/// The course's first RNN lab: from "hihell", predict "ihello".
#[test]
fn an_rnn_learns_to_continue_hihello() {
    let device = Default::default();
    Train::seed(&device, 1);
    let vocab = Vocab::of_chars([HELLO]);
    let ids = vocab.encode_chars(HELLO).unwrap();
    let mut net = LanguageModelConfig::new(vocab.len(), Cell::Rnn)
        .with_embedding(5)
        .with_hidden(8)
        .init::<Train>(&device);
    let mut optimizer = AdamConfig::new().init();
    let batch = || TokenBatcher.batch(vec![ids.clone()], &device);
    let loss = |net: &dlsuite_rnn::LanguageModel<Train>| -> f32 {
        next_token_output(&net.valid(), TokenBatcher.batch(vec![ids.clone()], &device))
            .0
            .into_scalar()
    };
    let before = loss(&net);
    let untrained = vocab.decode(&predict_each(&net.valid(), &ids[..6], &device), "");
    for _ in 0..200 {
        let out = TrainStep::step(&net, batch());
        net = optimizer.step(0.05, net, out.grads);
    }
    let after = loss(&net);
    assert!(after < 0.1 * before, "loss {before} → {after}");
    let valid = net.valid();
    let predicted = vocab.decode(&predict_each(&valid, &ids[..6], &device), "");
    assert_eq!(predicted, "ihello", "untrained it said {untrained:?}");
    let mut rng = StdRng::seed_from_u64(0);
    let h = vocab.encode_chars("h").unwrap();
    let written = continue_tokens(&valid, &h, 6, None, Decoding::Greedy, &mut rng, &device);
    assert_eq!(vocab.decode(&written, ""), "ihello");
    let accuracy = next_token_accuracy(&valid, &ids, 6, 4, &device);
    assert_eq!(accuracy, 1.0);
    // An untrained net's accuracy is measured the same way and is not 1.
    let fresh = LanguageModelConfig::new(vocab.len(), Cell::Rnn).init::<NdArray>(&device);
    assert!(next_token_accuracy(&fresh, &ids, 6, 4, &device) < 1.0);
}

fn pairs() -> Vec<Pair> {
    [("hi", "hello !"), ("안녕", "반가워요"), ("bye", "see you")]
        .iter()
        .map(|(q, a)| Pair {
            question: q.to_string(),
            answer: a.to_string(),
        })
        .collect()
}

#[test]
fn pair_batches_pad_questions_in_front_and_leave_padding_out_of_the_targets() {
    let device = Default::default();
    let ps = pairs();
    let vocab = Vocab::with_specials(
        ps.iter()
            .flat_map(|p| [p.question.as_str(), p.answer.as_str()]),
    );
    let encoded: Vec<_> = ps.iter().map(|p| encode_pair(&vocab, p)).collect();
    let batch: PairBatch<NdArray> = PairBatcher.batch(encoded.clone(), &device);
    assert_eq!(batch.questions.dims(), [3, 3]);
    let padding: Vec<bool> = batch.padding.into_data().iter::<bool>().collect();
    assert_eq!(
        padding,
        [true, false, false, true, false, false, false, false, false]
    );
    let first: Vec<i64> = batch.questions.into_data().iter::<i64>().take(3).collect();
    assert_eq!(first[0], PAD as i64);
    // "see you" is the longest answer: 7 characters and the end mark.
    assert_eq!(batch.answer_so_far.dims(), [3, 8]);
    let so_far: Vec<i64> = batch.answer_so_far.into_data().iter::<i64>().collect();
    assert_eq!(so_far[0], BOS as i64);
    let targets: Vec<i64> = batch.targets.into_data().iter::<i64>().collect();
    assert_eq!(targets.len(), 8 + 5 + 8);
    assert_eq!(targets[7], EOS as i64);
    let positions: Vec<i64> = batch.positions.into_data().iter::<i64>().collect();
    assert_eq!(&positions[7..10], &[7, 8, 9]);
}

#[test]
fn a_chatbot_learns_which_answer_goes_with_which_question() {
    let device = Default::default();
    Train::seed(&device, 2);
    let ps = pairs();
    let vocab = Vocab::with_specials(
        ps.iter()
            .flat_map(|p| [p.question.as_str(), p.answer.as_str()]),
    );
    let encoded: Vec<_> = ps.iter().map(|p| encode_pair(&vocab, p)).collect();
    let mut net = ChatNetConfig::new(vocab.len())
        .with_embedding(16)
        .with_hidden(32)
        .init::<Train>(&device);
    let logits = net.valid().forward(
        Tensor::from_ints([[4, 5]], &device),
        Tensor::from_bool(TensorData::from([[false, false]]), &device),
        Tensor::from_ints([[BOS as i64, 4, 5]], &device),
    );
    assert_eq!(logits.dims(), [1, 3, vocab.len()]);
    let loss = |net: &dlsuite_rnn::ChatNet<Train>| -> f32 {
        answer_output(&net.valid(), PairBatcher.batch(encoded.clone(), &device))
            .0
            .into_scalar()
    };
    let before = loss(&net);
    let mut optimizer = AdamConfig::new().init();
    for _ in 0..150 {
        let out = answer_output(&net, PairBatcher.batch(encoded.clone(), &device));
        let grads = GradientsParams::from_grads(out.0.backward(), &net);
        net = optimizer.step(0.01, net, grads);
    }
    let after = loss(&net);
    assert!(after < 0.1 * before, "loss {before} → {after}");
    let questions: Vec<String> = ps.iter().map(|p| p.question.clone()).collect();
    let mut rng = StdRng::seed_from_u64(0);
    let said = answer(
        &net.valid(),
        &vocab,
        &questions,
        Decoding::Greedy,
        &mut rng,
        &device,
    );
    for (p, a) in ps.iter().zip(&said) {
        assert_eq!(a.text, p.answer, "asked {:?}", p.question);
        assert_eq!(a.attention.len(), a.ids.len());
        let shown = a.attention[0].len();
        assert_eq!(
            shown,
            p.question.chars().count(),
            "attention skips the padding"
        );
        let total: f32 = a.attention[0].iter().sum();
        assert!((total - 1.0).abs() < 1e-3, "attention sums to {total}");
    }
    let sampled = answer(
        &net.valid(),
        &vocab,
        &questions[..1],
        Decoding::Sampled { temperature: 5.0 },
        &mut rng,
        &device,
    );
    assert_eq!(sampled.len(), 1);
}
