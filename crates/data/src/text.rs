//! Token sequences for the recurrent networks: a vocabulary, the suite's
//! built-in corpora (text written for the project, see `corpus/LICENSE.md`;
//! seeded melodies), windows of a token stream for a language model, and
//! question–answer pairs for a chatbot.

use std::collections::HashMap;
use std::sync::Arc;

use burn::data::dataset::Dataset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{DataError, Result};

/// The course's first RNN lab: learn to continue "hihello" one character
/// at a time.
pub const HELLO: &str = "hihello";
/// An essay on the course's ideas, the character model's text.
pub const ESSAY: &str = include_str!("../corpus/essay.txt");
/// The chatbot's dialogue corpus: `question<TAB>answer` lines.
pub const CHAT: &str = include_str!("../corpus/chat.tsv");

/// Padding, start and end of an answer, and any character a vocabulary
/// does not hold: the first four entries of a vocabulary made
/// [`Vocab::with_specials`].
pub const PAD: usize = 0;
pub const BOS: usize = 1;
pub const EOS: usize = 2;
pub const UNK: usize = 3;
const SPECIALS: [&str; 4] = ["<pad>", "<bos>", "<eos>", "<unk>"];

/// The tokens a net reads and writes, each a class index.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocab {
    tokens: Vec<String>,
    index: HashMap<String, usize>,
    specials: bool,
}

impl Vocab {
    /// Every distinct character of `texts`, in code point order.
    pub fn of_chars<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        Self::build(distinct_chars(texts), false)
    }

    /// [`PAD`], [`BOS`], [`EOS`] and [`UNK`] first, then every distinct
    /// character of `texts`.
    pub fn with_specials<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tokens: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
        tokens.extend(distinct_chars(texts));
        Self::build(tokens, true)
    }

    /// A vocabulary read back from a run folder: its tokens in class order.
    pub fn from_tokens(tokens: Vec<String>, what: &str) -> Result<Self> {
        let bad = |reason: String| DataError::Text {
            what: what.to_string(),
            reason,
        };
        if tokens.is_empty() {
            return Err(bad("the vocabulary is empty".into()));
        }
        let specials =
            tokens.len() > SPECIALS.len() && tokens.iter().zip(SPECIALS).all(|(t, s)| t == s);
        let vocab = Self::build(tokens, specials);
        if vocab.index.len() != vocab.tokens.len() {
            return Err(bad("the vocabulary lists a token twice".into()));
        }
        Ok(vocab)
    }

    fn build(tokens: Vec<String>, specials: bool) -> Self {
        let index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        Self {
            tokens,
            index,
            specials,
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn token(&self, id: usize) -> &str {
        self.tokens.get(id).map_or("", String::as_str)
    }

    pub fn id(&self, token: &str) -> Option<usize> {
        self.index.get(token).copied()
    }

    /// Each character of `text` as its class; a character the vocabulary
    /// lacks is an error naming it (a language model's prompt).
    pub fn encode_chars(&self, text: &str) -> Result<Vec<usize>> {
        text.chars()
            .map(|c| {
                self.id(c.encode_utf8(&mut [0; 4])).ok_or_else(|| DataError::Text {
                    what: format!("{text:?}"),
                    reason: format!(
                        "the character {c:?} never occurs in the training text; use only characters it holds"
                    ),
                })
            })
            .collect()
    }

    /// Each character of `text` as its class; one the vocabulary lacks is
    /// [`UNK`] (a chatbot's question), or left out when the vocabulary has
    /// no special tokens.
    pub fn encode_lossy(&self, text: &str) -> Vec<usize> {
        text.chars()
            .filter_map(|c| {
                self.id(c.encode_utf8(&mut [0; 4]))
                    .or(self.specials.then_some(UNK))
            })
            .collect()
    }

    /// The tokens of `ids` joined by `between`, leaving out the special ones.
    pub fn decode(&self, ids: &[usize], between: &str) -> String {
        let start = if self.specials { SPECIALS.len() } else { 0 };
        ids.iter()
            .filter(|&&id| id >= start)
            .map(|&id| self.token(id))
            .collect::<Vec<_>>()
            .join(between)
    }
}

fn distinct_chars<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut chars: Vec<char> = texts.into_iter().flat_map(str::chars).collect();
    chars.sort_unstable();
    chars.dedup();
    chars.into_iter().map(String::from).collect()
}

/// Overlapping windows of a token stream, each `window + 1` tokens long: a
/// language model reads the first `window` and predicts each next one.
#[derive(Clone, Debug)]
pub struct Windows {
    tokens: Arc<Vec<usize>>,
    starts: Vec<usize>,
    window: usize,
}

impl Windows {
    /// A window every `stride` tokens, the whole list `repeat` times (a text
    /// shorter than a batch is seen several times an epoch).
    pub fn new(tokens: Vec<usize>, window: usize, stride: usize, repeat: usize) -> Result<Self> {
        if window == 0 || stride == 0 || repeat == 0 {
            return Err(DataError::InvalidArgument {
                what: "windows",
                reason: format!(
                    "window {window}, stride {stride} and repeat {repeat} must each be at least 1"
                ),
            });
        }
        if tokens.len() <= window {
            return Err(DataError::InvalidArgument {
                what: "windows",
                reason: format!(
                    "a text of {} tokens is too short for a window of {window} (it needs {} or more)",
                    tokens.len(),
                    window + 1
                ),
            });
        }
        let last = tokens.len() - window - 1;
        let once: Vec<usize> = (0..=last).step_by(stride).collect();
        let starts = once
            .iter()
            .copied()
            .cycle()
            .take(once.len() * repeat)
            .collect();
        Ok(Self {
            tokens: Arc::new(tokens),
            starts,
            window,
        })
    }

    pub fn window(&self) -> usize {
        self.window
    }
}

impl Dataset<Vec<usize>> for Windows {
    fn get(&self, index: usize) -> Option<Vec<usize>> {
        let start = *self.starts.get(index)?;
        Some(self.tokens[start..start + self.window + 1].to_vec())
    }

    fn len(&self) -> usize {
        self.starts.len()
    }
}

/// One exchange of the dialogue corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub question: String,
    pub answer: String,
}

/// Reads `question<TAB>answer` lines (`#` starts a comment line); `origin`
/// names the text in errors. Questions are lower-cased as a user's are.
pub fn parse_pairs(text: &str, origin: &str) -> Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let bad = |reason: &str| DataError::Text {
            what: format!("{origin}, line {}", n + 1),
            reason: reason.to_string(),
        };
        let [question, answer] = fields[..] else {
            return Err(bad(
                "expected a question and an answer separated by one tab",
            ));
        };
        let (question, answer) = (question.trim(), answer.trim());
        if question.is_empty() || answer.is_empty() {
            return Err(bad("the question or the answer is empty"));
        }
        pairs.push(Pair {
            question: normalise_question(question),
            answer: answer.to_string(),
        });
    }
    if pairs.is_empty() {
        return Err(DataError::Text {
            what: origin.to_string(),
            reason: "holds no question–answer pairs".into(),
        });
    }
    Ok(pairs)
}

/// Lower case, single spaces: how the corpus writes its questions and how
/// a user's question is read.
pub fn normalise_question(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The training pairs and the held-out ones: the last wording of every
/// answer given to three or more wordings, which the chatbot never sees.
pub fn split_held_out(pairs: &[Pair]) -> (Vec<Pair>, Vec<Pair>) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for p in pairs {
        *count.entry(&p.answer).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for p in pairs {
        let k = seen.entry(&p.answer).or_default();
        *k += 1;
        if count[p.answer.as_str()] >= 3 && *k == count[p.answer.as_str()] {
            held.push(p.clone());
        } else {
            train.push(p.clone());
        }
    }
    (train, held)
}

/// The lowest and highest note a melody may use (MIDI numbers: 60 is
/// middle C).
pub const LOWEST_NOTE: u8 = 48;
pub const HIGHEST_NOTE: u8 = 96;
/// Ends a melody in a stream of melodies.
pub const MELODY_END: &str = "|";

/// Tunes old enough to be anyone's, as steps from their key's tonic: "Ode
/// to Joy", "Twinkle, Twinkle", "Frère Jacques".
const TUNES: [&[i8]; 3] = [
    &[4, 4, 5, 7, 7, 5, 4, 2, 0, 0, 2, 4, 4, 2, 2],
    &[0, 0, 7, 7, 9, 9, 7, 5, 5, 4, 4, 2, 2, 0],
    &[0, 2, 4, 0, 0, 2, 4, 0, 4, 5, 7, 4, 5, 7],
];
const MAJOR: [i8; 8] = [0, 2, 4, 5, 7, 9, 11, 12];

/// `n` seeded melodies, each a list of MIDI notes: major scales up and
/// down, arpeggios of the major chord over two octaves and the three tunes,
/// each in a random key.
pub fn melodies(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let tonic: i8 = rng.random_range(55..=67);
            let steps: Vec<i8> = match rng.random_range(0..5) {
                0 => MAJOR
                    .iter()
                    .chain(MAJOR.iter().rev().skip(1))
                    .copied()
                    .collect(),
                1 => {
                    let up = [0, 4, 7, 12, 16, 19, 24];
                    up.iter().chain(up.iter().rev().skip(1)).copied().collect()
                }
                k => TUNES[k - 2].to_vec(),
            };
            steps.iter().map(|s| (tonic + s) as u8).collect()
        })
        .collect()
}

/// The vocabulary of melodies: the end mark, then every note from
/// [`LOWEST_NOTE`] to [`HIGHEST_NOTE`] by its number.
pub fn note_vocab() -> Vocab {
    let mut tokens = vec![MELODY_END.to_string()];
    tokens.extend((LOWEST_NOTE..=HIGHEST_NOTE).map(|n| n.to_string()));
    Vocab::build(tokens, false)
}

/// Melodies as one token stream, each followed by the end mark.
pub fn melody_tokens(melodies: &[Vec<u8>], vocab: &Vocab) -> Vec<usize> {
    let end = vocab.id(MELODY_END).unwrap_or(0);
    melodies
        .iter()
        .flat_map(|m| {
            m.iter()
                .map(|n| vocab.id(&n.to_string()).unwrap_or(end))
                .chain(std::iter::once(end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_parses_and_holds_one_wording_of_each_answer_out() {
        let pairs = parse_pairs(CHAT, "chat.tsv").unwrap();
        assert!(pairs.len() >= 300, "{} pairs", pairs.len());
        let (train, held) = split_held_out(&pairs);
        assert_eq!(train.len() + held.len(), pairs.len());
        for h in &held {
            assert!(train.iter().any(|t| t.answer == h.answer));
            assert!(!train.iter().any(|t| t.question == h.question));
        }
        assert!(held.iter().any(|p| p.answer.contains("챗봇")));
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = parse_pairs("hi\thello\njust one field\n", "x.tsv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.tsv, line 2: expected a question and an answer separated by one tab"
        );
    }

    #[test]
    fn vocabularies_round_trip_and_name_an_unknown_character() {
        let v = Vocab::of_chars([HELLO]);
        assert_eq!(v.tokens(), ["e", "h", "i", "l", "o"]);
        let ids = v.encode_chars("hello").unwrap();
        assert_eq!(v.decode(&ids, ""), "hello");
        let err = v.encode_chars("help").unwrap_err().to_string();
        assert!(err.contains("'p'"), "{err}");
        assert_eq!(v.encode_lossy("hxe"), [1, 0], "no <unk> to stand in");
        let s = Vocab::with_specials(["ab"]);
        assert_eq!(s.encode_lossy("abz"), [4, 5, UNK]);
        assert_eq!(s.decode(&[BOS, 4, 5, EOS], ""), "ab");
        let back = Vocab::from_tokens(s.tokens().to_vec(), "vocab").unwrap();
        assert_eq!(back, s);
        assert!(Vocab::from_tokens(vec!["a".into(), "a".into()], "v").is_err());
    }

    #[test]
    fn windows_cover_the_stream_and_repeat() {
        let w = Windows::new((0..10).collect(), 4, 2, 3).unwrap();
        assert_eq!(w.len(), 9);
        assert_eq!(w.get(0).unwrap(), [0, 1, 2, 3, 4]);
        assert_eq!(w.get(2).unwrap(), [4, 5, 6, 7, 8]);
        assert_eq!(w.get(3).unwrap(), [0, 1, 2, 3, 4]);
        assert!(Windows::new((0..4).collect(), 4, 1, 1).is_err());
    }

    #[test]
    fn melodies_stay_in_range_and_are_seeded() {
        let a = melodies(50, 7);
        assert_eq!(a, melodies(50, 7));
        assert_ne!(a, melodies(50, 8));
        let vocab = note_vocab();
        let tokens = melody_tokens(&a, &vocab);
        assert_eq!(tokens.iter().filter(|&&t| t == 0).count(), 50);
        for m in &a {
            assert!(m.iter().all(|n| (LOWEST_NOTE..=HIGHEST_NOTE).contains(n)));
        }
    }
}
