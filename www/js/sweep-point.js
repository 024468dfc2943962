// One bit width of the lab's sweep, in two halves so the lab worker's scheduler can run other
// work between them: weights only (the simulated path: float activations) and weights +
// activations (the true INT8 path). Shared by js/lab-worker.js and js/sweep-helper.js, which
// computes bit widths in parallel on a second core.

/** Weights quantized to `bits`, activations float: accuracy, agreement, SQNR and sizes. */
export function weightsOnly(model, test, base, bits) {
  const qm = model.quantize({ ...base, weightBits: bits, actBits: 8 });
  try {
    const e = model.evaluate(qm, test, 'simulated');
    const rep = model.report(qm, 4, 0);
    return {
      bits,
      fp32Accuracy: e.fp32Accuracy,
      wAccuracy: e.int8Accuracy,
      wAgreement: e.agreement,
      wSqnrDb: e.logitSqnrDb,
      bytesFp32: rep.bytesFp32,
      bytesInt8: rep.bytesInt8,
      bytesPacked: rep.layers.reduce((sum, l) => sum + l.bytesInt8 - l.weight.bytesInt8 + l.weight.bytesPacked, 0),
      weightSqnrDb: rep.layers.map((l) => l.weight.sqnrDb),
    };
  } finally {
    qm.free();
  }
}

/** Weights and activations at `bits` on the integer path. */
export function weightsAndActivations(model, test, base, bits) {
  const qm = model.quantize({ ...base, weightBits: bits, actBits: bits });
  try {
    const e = model.evaluate(qm, test, 'int8');
    return { waAccuracy: e.int8Accuracy, waAgreement: e.agreement, waSqnrDb: e.logitSqnrDb };
  } finally {
    qm.free();
  }
}
