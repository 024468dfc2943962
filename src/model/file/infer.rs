//! The layer list of a file that has none, inferred from its tensor names and shapes.

use super::*;

/// The layer list of a file without one, from its tensor names and shapes (a PyTorch
/// `nn.Sequential` as `0.weight, 3.weight, ...`, or named modules such as `conv1`, `fc`):
/// every 4-D weight is a conv followed by ReLU, every 2-D weight a linear layer (ReLU between
/// linear layers), a flatten before the first linear layer. Paddings (0 or 1), which convs are
/// followed by a 2×2 max-pool, and the input size (1×28×28 or 1×32×32) are the first choice that
/// makes the shapes chain; in a Sequential, a gap of two or more indices after a conv means a pool.
pub(super) fn infer_layers(
    tensors: &HashMap<String, (Vec<usize>, Vec<f32>)>,
    input: Option<Shape>,
) -> Result<(Vec<Spec>, Shape, String)> {
    // BatchNorm modules are the ones with running statistics; their 1-D weights are not layers.
    let mut bns: Vec<String> = tensors
        .keys()
        .filter_map(|n| n.strip_suffix(".running_mean"))
        .map(str::to_string)
        .collect();
    bns.sort_unstable_by_key(|b| natural_key(b));
    let mut convs = vec![];
    let mut linears = vec![];
    for (name, (shape, _)) in tensors {
        let Some(base) = name.strip_suffix(".weight") else {
            continue;
        };
        if bns.iter().any(|b| b == base) {
            continue;
        }
        match shape.len() {
            4 => convs.push((base.to_string(), shape.clone())),
            2 => linears.push((base.to_string(), shape.clone())),
            _ => bail!(
                format!("{name}"),
                "has shape {shape:?}; a weight must be 4-D (conv) or 2-D (linear)"
            ),
        }
    }
    if linears.is_empty() {
        bail!(
            "__metadata__",
            "has no \"layers\" list, and the file has no linear layer to end with"
        );
    }
    convs.sort_unstable_by_key(|c| natural_key(&c.0));
    linears.sort_unstable_by_key(|l| natural_key(&l.0));
    let seq_index = |n: &str| n.rsplit('.').next().and_then(|s| s.parse::<usize>().ok());
    let seq_prefix = |n: &str| n.rsplit_once('.').map_or("", |(p, _)| p).to_string();
    // The BatchNorm after each conv: in a Sequential the next index (`0` then `1`: folded), or the
    // one after (`0`, ReLU `1`, `2`: after the ReLU, its own layer); else the BatchNorms in order,
    // one per conv (`conv1, bn1, conv2, bn2`). `true`: after the ReLU.
    let bn_after: Vec<Option<(String, bool)>> = if bns.is_empty() {
        vec![None; convs.len()]
    } else if bns.iter().all(|b| seq_index(b).is_some()) {
        convs
            .iter()
            .map(|(c, _)| {
                seq_index(c).and_then(|i| {
                    let at = |j: usize| {
                        bns.iter()
                            .find(|b| seq_prefix(b) == seq_prefix(c) && seq_index(b) == Some(j))
                            .cloned()
                    };
                    at(i + 1)
                        .map(|b| (b, false))
                        .or_else(|| at(i + 2).map(|b| (b, true)))
                })
            })
            .collect()
    } else if bns.len() == convs.len() {
        bns.iter().map(|b| Some((b.clone(), false))).collect()
    } else {
        bail!(
            "__metadata__",
            "has no \"layers\" list, and the file's {} BatchNorms cannot be matched to its {} convs; list the layers in __metadata__ (see README)",
            bns.len(),
            convs.len()
        );
    };
    if bns
        .iter()
        .any(|b| !bn_after.iter().flatten().any(|(a, _)| a == b))
    {
        bail!(
            "__metadata__",
            "has no \"layers\" list, and a BatchNorm follows no conv ({}); list the layers in __metadata__ (see README)",
            bns.join(", ")
        );
    }
    // Sequential index gaps that force a pool after conv i (a BatchNorm takes one index).
    let forced: Vec<Option<bool>> = (0..convs.len())
        .map(|i| {
            let next = convs
                .get(i + 1)
                .map(|c| &c.0)
                .or(linears.first().map(|l| &l.0));
            let bn = bn_after[i].is_some() as usize;
            match (seq_index(&convs[i].0), next.and_then(|n| seq_index(n))) {
                (Some(a), Some(b)) if b > a + bn && i + 1 < convs.len() => Some(b - a - bn >= 3),
                _ => None,
            }
        })
        .collect();
    if convs.len() > 6 {
        bail!("__metadata__", "has no \"layers\" list and the file has {} conv layers; list the layers in __metadata__ (see README)", convs.len());
    }
    let inputs: Vec<Shape> = match input {
        Some(s) => vec![s],
        None => vec![
            [convs.first().map_or(1, |c| c.1[1]), 28, 28],
            [convs.first().map_or(1, |c| c.1[1]), 32, 32],
        ],
    };
    let n = convs.len();
    // Same padding on every conv is the common case, so those come first on every input size.
    let all = (1u32 << n) - 1;
    for mixed in [false, true] {
        for inp in &inputs {
            for pads in (0..=all).filter(|&p| (p == 0 || p == all) != mixed) {
                for pools in 0..=all {
                    if (0..n).any(|i| forced[i].is_some_and(|f| f != (pools >> i & 1 == 1))) {
                        continue;
                    }
                    let mut specs = vec![];
                    for (i, (name, shape)) in convs.iter().enumerate() {
                        let pad = (pads >> i & 1) as usize;
                        specs.push(Spec::Conv {
                            name: name.clone(),
                            padding: if shape[2] == 1 { 0 } else { pad },
                            stride: 1,
                        });
                        let bn = bn_after[i].as_ref().map(|(b, after_relu)| {
                            let spec = Spec::BatchNorm {
                                one_d: false,
                                name: b.clone(),
                                eps: 1e-5,
                            };
                            (spec, *after_relu)
                        });
                        match bn {
                            Some((b, false)) => specs.extend([b, Spec::Relu]),
                            Some((b, true)) => specs.extend([Spec::Relu, b]),
                            None => specs.push(Spec::Relu),
                        }
                        if pools >> i & 1 == 1 {
                            specs.push(Spec::MaxPool { k: 2, stride: 2 });
                        }
                    }
                    specs.push(Spec::Flatten);
                    for (i, (name, _)) in linears.iter().enumerate() {
                        specs.push(Spec::Linear { name: name.clone() });
                        if i + 1 < linears.len() {
                            specs.push(Spec::Relu);
                        }
                    }
                    if build(&specs, *inp, tensors).is_ok() {
                        let desc: Vec<String> = specs.iter().map(Spec::describe).collect();
                        let note = format!("no layer list in the file; inferred from tensor names and shapes: input {inp:?}, {}", desc.join(" → "));
                        return Ok((specs, *inp, note));
                    }
                }
            }
        }
    }
    bail!("__metadata__", "has no \"layers\" list, and no arrangement of conv (padding 0/1), ReLU, 2×2 max-pool, flatten and linear layers on a 1×28×28 or 1×32×32 input makes these tensors' shapes chain; list the layers in __metadata__ (see README)")
}

/// Sort key comparing digit runs as numbers: `conv2 < conv10`, `0 < 3 < 10`.
pub(super) fn natural_key(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = vec![];
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            out.push((0, n.parse().unwrap_or(u64::MAX), String::new()));
        } else {
            let mut t = String::new();
            while let Some(&d) = chars.peek().filter(|d| !d.is_ascii_digit()) {
                t.push(d);
                chars.next();
            }
            out.push((1, 0, t));
        }
    }
    out
}
