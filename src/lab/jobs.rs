//! The lab's long jobs as resumable state machines. A job's `step` does one bounded piece of
//! work (one quantization, or one more prefix of the test set) and says how far it is; the
//! worker that drives it answers messages between two steps and drops a job whose settings
//! changed. The jobs know nothing of JS, of the CNN or of the clock (passed in), so they are
//! tested natively with any [`Family`].

use super::{Family, Measure, Summary};
use crate::model::eval::Path;
use crate::model::int8::{Deployed, QuantConfig};
use crate::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// Test items a full measurement adds per step (about 40 ms of int8 inference on the digits).
pub const EVAL_CHUNK: usize = 250;

/// How far a job is, and what it has to show.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress<U> {
    pub done: f64,
    pub total: usize,
    pub label: String,
    /// New results to show (the whole table so far), when this step produced some.
    pub update: Option<U>,
    /// The job has nothing more to do.
    pub complete: bool,
}

/// One measurement a job needs: `config` along `path` on the first `limit` test items (all:
/// `None`).
#[derive(Debug, Clone)]
pub struct Ask {
    pub config: QuantConfig,
    pub path: Path,
    pub limit: Option<usize>,
    pub label: String,
}

/// A finished measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub measure: Measure,
    #[serde(flatten)]
    pub summary: Summary,
    pub deployed: &'static str,
    /// Milliseconds to quantize, and for the whole measurement, by the clock passed in.
    pub quantize_ms: f64,
    pub ms: f64,
}

/// Runs one [`Ask`] a step at a time: the quantization is a step of its own (GPTQ or
/// equalization can take most of a second), then a limited measurement is one step and a full
/// one grows by [`EVAL_CHUNK`] items per step.
struct Runner<Q> {
    q: Option<Q>,
    n: usize,
    t0: f64,
    quantize_ms: f64,
}

impl<Q> Default for Runner<Q> {
    fn default() -> Self {
        Runner {
            q: None,
            n: 0,
            t0: 0.0,
            quantize_ms: 0.0,
        }
    }
}

impl<Q> Runner<Q> {
    /// Advances `ask` by one step; its outcome once it is measured.
    fn step<F: Family<Quantized = Q>>(
        &mut self,
        f: &mut F,
        ask: &Ask,
        now: &dyn Fn() -> f64,
    ) -> Result<Option<Outcome>> {
        let Some(q) = &mut self.q else {
            self.t0 = now();
            self.q = Some(f.quantize(&ask.config)?);
            self.quantize_ms = now() - self.t0;
            self.n = 0;
            return Ok(None);
        };
        let len = f.test_len();
        self.n = match ask.limit {
            Some(l) => l.min(len),
            None => (self.n + EVAL_CHUNK).min(len),
        };
        let measure = f.measure(q, ask.path, self.n)?;
        if self.n < ask.limit.unwrap_or(len).min(len) {
            return Ok(None);
        }
        let q = self.q.take().expect("measured above");
        Ok(Some(Outcome {
            measure,
            summary: f.summary(&q),
            deployed: match f.deployed(&q) {
                Deployed::Integer => "integer",
                Deployed::Qdq => "qdq",
            },
            quantize_ms: self.quantize_ms,
            ms: now() - self.t0,
        }))
    }

    /// The share of the current measurement done, for progress.
    fn fraction(&self, ask: &Ask, len: usize) -> f64 {
        match &self.q {
            None => 0.0,
            Some(_) => self.n as f64 / ask.limit.unwrap_or(len).min(len).max(1) as f64,
        }
    }
}

/// Measures a list of configs in order (the technique comparison): the update is every outcome
/// so far, in the list's order.
pub struct List<Q> {
    asks: Vec<Ask>,
    outcomes: Vec<Outcome>,
    run: Runner<Q>,
}

impl<Q> List<Q> {
    pub fn new(asks: Vec<Ask>) -> Self {
        List {
            asks,
            outcomes: vec![],
            run: Runner::default(),
        }
    }

    pub fn step<F: Family<Quantized = Q>>(
        &mut self,
        f: &mut F,
        now: &dyn Fn() -> f64,
    ) -> Result<Progress<Vec<Outcome>>> {
        let i = self.outcomes.len();
        let total = self.asks.len();
        let Some(ask) = self.asks.get(i) else {
            return Ok(Progress {
                done: total as f64,
                total,
                label: String::new(),
                update: None,
                complete: true,
            });
        };
        let label = ask.label.clone();
        let update = match self.run.step(f, ask, now)? {
            Some(o) => {
                self.outcomes.push(o);
                Some(self.outcomes.clone())
            }
            None => None,
        };
        let i = self.outcomes.len();
        let fraction = if i < total {
            self.run.fraction(&self.asks[i], f.test_len())
        } else {
            0.0
        };
        Ok(Progress {
            done: i as f64 + fraction,
            total,
            label,
            update,
            complete: i == total,
        })
    }
}

/// One point of the size-budget search: every layer's weight bits, its accuracy on all the test
/// items and its packed size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetPoint {
    /// Weight bits by layer index (written with string keys: a JSON object, as JS reads it).
    #[serde(serialize_with = "string_keys")]
    pub bits: BTreeMap<usize, u32>,
    pub accuracy: f64,
    pub bytes: usize,
}

fn string_keys<S: serde::Serializer>(
    m: &BTreeMap<usize, u32>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(k, v)| (k.to_string(), v)))
}

/// What the search shows: the path of chosen moves, every uniform bit width beside it, and at
/// the end the chosen point and whether it fits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetUpdate {
    pub path: Vec<BudgetPoint>,
    pub uniform: Vec<BudgetPoint>,
    pub complete: bool,
    pub chosen: Option<BudgetPoint>,
    pub fits: Option<bool>,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Every layer at the first bit width: on all items, then on the search's prefix.
    Start,
    StartPrefix,
    /// Trying each layer one step lower, on the prefix; `best`: the cheapest move so far.
    Search {
        cands: Vec<BTreeMap<usize, u32>>,
        j: usize,
        best: Option<Move>,
    },
    /// The chosen move, measured on all items.
    Chosen(Move),
    Uniform(usize),
    Done,
}

#[derive(Debug, Clone)]
struct Move {
    cost: f64,
    saved: f64,
    bits: BTreeMap<usize, u32>,
    prefix: f64,
}

/// Mixed precision for a size budget, greedy on measured accuracy:
///
/// ```text
/// bits = widths[0] for every layer
/// while size(bits) > budget:
///   for each layer l that can go one step lower in `widths`: score the move by
///     (accuracy(bits) − accuracy(bits with l lowered)) / (size(bits) − size(bits with l lowered))
///     on the first `prefix` test items (a move that saves nothing is not a move)
///   take the cheapest move (the larger saving on a tie)
/// ```
///
/// Sizes are the family's packed bytes; each point of the path, and every uniform width at the
/// same activation settings, is then measured on all test items.
pub struct Budget<Q> {
    base: QuantConfig,
    budget: usize,
    widths: Vec<u32>,
    prefix: usize,
    /// The layers by index, with their names (labels); moves are tried in index order.
    names: BTreeMap<usize, String>,
    bits: BTreeMap<usize, u32>,
    cur: Option<BudgetPoint>,
    cur_prefix: f64,
    path: Vec<BudgetPoint>,
    uniform: Vec<BudgetPoint>,
    moves: usize,
    phase: Phase,
    ask: Option<Ask>,
    run: Runner<Q>,
}

impl<Q> Budget<Q> {
    /// A search from `base` (its layer bits are replaced) for `budget` bytes over `widths`
    /// (highest first), scoring moves on the first `prefix` items, over `layers` (index, name).
    pub fn new(
        base: QuantConfig,
        budget: usize,
        widths: Vec<u32>,
        prefix: usize,
        layers: Vec<(usize, String)>,
    ) -> Result<Self> {
        if widths.is_empty() {
            crate::bail!("widths", "must name at least one bit width");
        }
        let bits = layers.iter().map(|(l, _)| (*l, widths[0])).collect();
        Ok(Budget {
            base,
            budget,
            widths,
            prefix,
            names: layers.into_iter().collect(),
            bits,
            cur: None,
            cur_prefix: 0.0,
            path: vec![],
            uniform: vec![],
            moves: 0,
            phase: Phase::Start,
            ask: None,
            run: Runner::default(),
        })
    }

    fn config(&self, bits: &BTreeMap<usize, u32>) -> QuantConfig {
        let mut c = self.base.clone();
        c.layer_bits = bits.iter().map(|(&l, &b)| (l, b, c.act_bits)).collect();
        c
    }

    fn label(&self, bits: &BTreeMap<usize, u32>) -> String {
        let names: Vec<String> = bits
            .iter()
            .map(|(l, b)| format!("{} {b}", self.names[l]))
            .collect();
        names.join(", ")
    }

    fn ask(&self, bits: &BTreeMap<usize, u32>, limit: Option<usize>, label: String) -> Ask {
        Ask {
            config: self.config(bits),
            path: Path::Int8,
            limit,
            label,
        }
    }

    /// The measurement the current phase needs (None: the phase decides without one).
    fn next_ask(&mut self) -> Option<Ask> {
        let first = format!("{} bits everywhere", self.widths[0]);
        match &self.phase {
            Phase::Start => Some(self.ask(&self.bits, None, first)),
            Phase::StartPrefix => Some(self.ask(&self.bits, Some(self.prefix), first)),
            Phase::Search { cands, j, .. } => cands.get(*j).map(|c| {
                let label = format!("trying {}", self.label(c));
                self.ask(c, Some(self.prefix), label)
            }),
            Phase::Chosen(m) => Some(self.ask(&m.bits, None, self.label(&m.bits))),
            Phase::Uniform(k) => self.widths.get(*k).map(|&b| {
                let all = self.names.keys().map(|&l| (l, b)).collect();
                self.ask(&all, None, format!("uniform {b} bits"))
            }),
            Phase::Done => None,
        }
    }

    /// The moves from the current bits: each layer that can go one width lower.
    fn candidates(&self) -> Vec<BTreeMap<usize, u32>> {
        self.names
            .keys()
            .filter_map(|l| {
                let i = self.widths.iter().position(|&w| w == self.bits[l])?;
                let lower = *self.widths.get(i + 1)?;
                let mut c = self.bits.clone();
                c.insert(*l, lower);
                Some(c)
            })
            .collect()
    }

    /// After a point of the path: search again while it is over the budget.
    fn search_or_uniform(&self) -> Phase {
        match &self.cur {
            Some(cur) if cur.bytes > self.budget => Phase::Search {
                cands: self.candidates(),
                j: 0,
                best: None,
            },
            _ => Phase::Uniform(0),
        }
    }

    fn update(&self, complete: bool) -> BudgetUpdate {
        let chosen = complete.then(|| self.path.last().cloned()).flatten();
        BudgetUpdate {
            path: self.path.clone(),
            uniform: self.uniform.clone(),
            complete,
            fits: chosen.as_ref().map(|c| c.bytes <= self.budget),
            chosen,
        }
    }

    pub fn step<F: Family<Quantized = Q>>(
        &mut self,
        f: &mut F,
        now: &dyn Fn() -> f64,
    ) -> Result<Progress<BudgetUpdate>> {
        let total = 2 + self.names.len() * self.widths.len();
        // Phases that decide without measuring move on at once.
        loop {
            if self.ask.is_none() {
                self.ask = self.next_ask();
            }
            if self.ask.is_some() || matches!(self.phase, Phase::Done) {
                break;
            }
            self.phase = match std::mem::replace(&mut self.phase, Phase::Done) {
                // Every candidate tried: take the best move, or stop searching.
                Phase::Search { best: Some(m), .. } => {
                    self.moves += 1;
                    Phase::Chosen(m)
                }
                Phase::Search { best: None, .. } => Phase::Uniform(0),
                Phase::Uniform(_) => Phase::Done,
                other => other,
            };
        }
        let done = (self.moves + self.uniform.len()).min(total - 1) as f64;
        let Some(ask) = self.ask.clone() else {
            return Ok(Progress {
                done: total as f64,
                total,
                label: String::new(),
                update: Some(self.update(true)),
                complete: true,
            });
        };
        let progress = |update| Progress {
            done,
            total,
            label: ask.label.clone(),
            update,
            complete: false,
        };
        let Some(o) = self.run.step(f, &ask, now)? else {
            return Ok(progress(None));
        };
        self.ask = None;
        let point = |bits: &BTreeMap<usize, u32>| BudgetPoint {
            bits: bits.clone(),
            accuracy: o.measure.score,
            bytes: o.summary.bytes_packed,
        };
        let mut update = None;
        self.phase = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Start => {
                let p = point(&self.bits);
                self.path.push(p.clone());
                self.cur = Some(p);
                update = Some(self.update(false));
                Phase::StartPrefix
            }
            Phase::StartPrefix => {
                self.cur_prefix = o.measure.score;
                self.search_or_uniform()
            }
            Phase::Search { cands, j, best } => {
                let cur = self.cur.as_ref().expect("measured at the start");
                let saved = cur.bytes as f64 - o.summary.bytes_packed as f64;
                let mut best = best;
                if saved > 0.0 {
                    let cost = (self.cur_prefix - o.measure.score) / saved;
                    let better = match &best {
                        None => true,
                        Some(b) => cost < b.cost || (cost == b.cost && saved > b.saved),
                    };
                    if better {
                        best = Some(Move {
                            cost,
                            saved,
                            bits: cands[j].clone(),
                            prefix: o.measure.score,
                        });
                    }
                }
                Phase::Search {
                    cands,
                    j: j + 1,
                    best,
                }
            }
            Phase::Chosen(m) => {
                self.bits = m.bits.clone();
                self.cur_prefix = m.prefix;
                let p = point(&m.bits);
                self.path.push(p.clone());
                self.cur = Some(p);
                update = Some(self.update(false));
                self.search_or_uniform()
            }
            Phase::Uniform(k) => {
                let all = self.names.keys().map(|&l| (l, self.widths[k])).collect();
                self.uniform.push(point(&all));
                if k + 1 == self.widths.len() {
                    self.phase = Phase::Done;
                    return Ok(Progress {
                        done: total as f64,
                        total,
                        label: ask.label.clone(),
                        update: Some(self.update(true)),
                        complete: true,
                    });
                }
                Phase::Uniform(k + 1)
            }
            Phase::Done => Phase::Done,
        };
        Ok(progress(update))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A family whose score falls with the bits of each layer and whose size is the sum of the
    /// bits times a per-layer weight count: the search's choices can be worked out by hand.
    struct Toy {
        weights: Vec<usize>,
        measured: usize,
    }

    impl Family for Toy {
        type Quantized = QuantConfig;
        fn quantize(&self, c: &QuantConfig) -> Result<QuantConfig> {
            Ok(c.clone())
        }
        fn test_len(&self) -> usize {
            1000
        }
        fn measure(&mut self, c: &mut QuantConfig, _: Path, n: usize) -> Result<Measure> {
            self.measured += 1;
            // Layer 0 loses 1% per bit below 8, layer 1 loses 4%.
            let loss: f64 = c
                .layer_bits
                .iter()
                .map(|&(l, w, _)| (8 - w) as f64 * if l == 0 { 0.01 } else { 0.04 })
                .sum();
            Ok(Measure {
                count: n,
                score: 0.99 - loss,
                fp32_score: 0.99,
                agreement: 1.0 - loss,
                sqnr_db: 40.0,
            })
        }
        fn summary(&self, c: &QuantConfig) -> Summary {
            let packed = c
                .layer_bits
                .iter()
                .map(|&(l, w, _)| self.weights[l] * w as usize / 8)
                .sum();
            Summary {
                bytes_fp32: 4 * self.weights.iter().sum::<usize>(),
                bytes_int8: self.weights.iter().sum(),
                bytes_packed: packed,
                weight_sqnr_db: vec![],
            }
        }
        fn deployed(&self, _: &QuantConfig) -> Deployed {
            Deployed::Integer
        }
    }

    fn run<U>(mut step: impl FnMut() -> Result<Progress<U>>) -> (Vec<Progress<U>>, usize) {
        let mut all = vec![];
        for steps in 1.. {
            let p = step().unwrap();
            let complete = p.complete;
            all.push(p);
            if complete {
                return (all, steps);
            }
            assert!(steps < 10_000, "the job does not end");
        }
        unreachable!()
    }

    #[test]
    fn budget_lowers_the_cheap_layer_first() {
        let mut toy = Toy {
            weights: vec![1000, 1000],
            measured: 0,
        };
        let layers = vec![(0, "a".to_string()), (1, "b".to_string())];
        // 8 + 8 bits = 2,000 bytes; the budget 1,500 needs 4 bits less in all.
        let mut job =
            Budget::new(QuantConfig::default(), 1500, vec![8, 6, 4], 500, layers).unwrap();
        let (steps, _) = run(|| job.step(&mut toy, &|| 0.0));
        let last = steps.last().unwrap().update.clone().unwrap();
        let bits = |p: &BudgetPoint| p.bits.values().copied().collect::<Vec<_>>();
        // Layer 0 costs 1% per bit, layer 1 4%: both moves go to layer 0 (8 → 6 → 4).
        assert_eq!(
            last.path.iter().map(bits).collect::<Vec<_>>(),
            vec![vec![8, 8], vec![6, 8], vec![4, 8]]
        );
        assert_eq!(last.chosen.unwrap().bytes, 1500);
        assert_eq!(last.fits, Some(true));
        assert_eq!(
            last.uniform.iter().map(|p| p.bytes).collect::<Vec<_>>(),
            vec![2000, 1500, 1000]
        );
        // Every step but the last is bounded: no step both quantizes and measures.
        assert!(steps.iter().filter(|p| p.update.is_some()).count() >= 4);
    }

    #[test]
    fn budget_that_cannot_be_met_stops_at_the_lowest_widths() {
        let mut toy = Toy {
            weights: vec![1000, 1000],
            measured: 0,
        };
        let layers = vec![(0, "a".to_string()), (1, "b".to_string())];
        let mut job = Budget::new(QuantConfig::default(), 10, vec![8, 4], 100, layers).unwrap();
        let (steps, _) = run(|| job.step(&mut toy, &|| 0.0));
        let last = steps.last().unwrap().update.clone().unwrap();
        assert_eq!(last.chosen.as_ref().unwrap().bytes, 1000);
        assert_eq!(last.fits, Some(false));
    }

    #[test]
    fn list_measures_each_config_in_chunks() {
        let mut toy = Toy {
            weights: vec![1000, 1000],
            measured: 0,
        };
        let asks: Vec<Ask> = [8, 4]
            .iter()
            .map(|&b| Ask {
                config: QuantConfig {
                    layer_bits: vec![(0, b, 8), (1, b, 8)],
                    ..QuantConfig::default()
                },
                path: Path::Int8,
                limit: None,
                label: format!("{b}"),
            })
            .collect();
        let mut job = List::new(asks);
        let (steps, n) = run(|| job.step(&mut toy, &|| 0.0));
        let rows = steps.last().unwrap().update.clone().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].summary.bytes_packed, 1000);
        assert!((rows[1].measure.score - (0.99 - 0.2)).abs() < 1e-12);
        // Each config: one quantization step, then 1,000 items in chunks of 250.
        assert_eq!(n, 2 * (1 + 1000 / EVAL_CHUNK));
        assert_eq!(toy.measured, 8);
    }
}
