// What the lab's page, worker and sweep helper share about a model: where the shipped one comes
// from, whether the test digits fit it, and how it is calibrated, so all three hold the same
// calibrated model and compute the same numbers.
import { randomInputs } from './sweep-point.js';

/** The shipped model's file: fetched from our own folder (precached), not built into the wasm. */
export const BASELINE_URL = new URL('../models/baseline-cnn.safetensors', import.meta.url);

/** Bytes of a file next to the page, or an Error naming it. */
export async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${new URL(url).pathname}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The shipped model's bytes. */
export const baselineBytes = () => fetchBytes(BASELINE_URL);

const CALIB_SEED = 20240601;
const numel = (shape) => shape.reduce((a, b) => a * b, 1);
/** At most 8 MB of random calibration images. */
const RANDOM_CALIB_FLOATS = 1 << 21;

/** Images of a user's test file a model is calibrated on, when it does not take the digits. */
export const OWN_CALIB = 256;

/** Whether the test digits fit a model (`summary`: Model.summary()), and if not, why. */
export function digitsInfo(summary) {
  const [c, h, w] = summary.input;
  const digits = c === 1 && h === w && (h === 28 || h === 32) && summary.outputs === 10;
  return digits
    ? { digits: true, reason: null, inputs: 'digits' }
    : {
      digits: false,
      inputs: 'random',
      reason: `this model takes ${c}×${h}×${w} inputs and gives ${summary.outputs} outputs, but the test digits need ` +
        '1×28×28 or 1×32×32 inputs and 10 outputs',
    };
}

/**
 * What the lab measures a model on. `own`: the user's test file `{ set, name }` (a Digits the
 * core has checked fits the model: Digits.checkFits), or null. `digits`: there is a labelled
 * test set (accuracy, sensitivity, flipped examples); `takesDigits`: the model takes the digits
 * (drawing, quantization-aware training on the training digits); `inputs`: 'digits', 'dataset'
 * or 'random' (what the sweep and timing run on).
 */
export function dataInfo(summary, own) {
  const d = digitsInfo(summary);
  if (!own) return { ...d, takesDigits: d.digits, dataset: null };
  const [c, h, w] = own.set.shape;
  return {
    digits: true,
    takesDigits: d.digits,
    inputs: 'dataset',
    reason: null,
    drawReason: d.digits ? null : d.reason,
    dataset: { name: own.name, count: own.set.length, shape: [c, h, w], classes: own.set.classes ?? null },
  };
}

/**
 * Calibrates `model` as the lab does: on the calibration digits when they fit, else on the first
 * OWN_CALIB images of the user's test file (`own`, when there is one), else on seeded random
 * images in [0, 1]. Returns how many images it saw.
 */
export function calibrate(model, summary, calibDigits, own = null) {
  const n = calibrateOnly(model, summary, calibDigits, own);
  // A file saved after quantization-aware training carries the ranges it trained against.
  const saved = model.savedRanges;
  if (saved) model.setRanges(saved);
  return n;
}

function calibrateOnly(model, summary, calibDigits, own) {
  if (digitsInfo(summary).digits) {
    model.calibrate(calibDigits);
    return calibDigits.length;
  }
  if (own) {
    const n = Math.min(OWN_CALIB, own.set.length);
    model.calibrate(own.set, n);
    return n;
  }
  const n = Math.max(1, Math.min(256, Math.floor(RANDOM_CALIB_FLOATS / numel(summary.input))));
  model.calibrateImages(randomInputs(summary.input, n, CALIB_SEED), n);
  return n;
}
