// The drawing pad: pointer strokes (mouse, pen, finger) on a 280×280 canvas, and a test digit
// drawn onto it (the keyboard's way in). `ink()` is what the worker preprocesses: the canvas's
// alpha, 1 = ink.
const LINE = 22; // stroke width on the 280×280 pad: about an MNIST pen stroke after scaling

export class Pad {
  /** `onInk()`: called after each change by a pointer. */
  constructor(canvas, onInk) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    Object.assign(this.ctx, { lineCap: 'round', lineJoin: 'round', lineWidth: LINE, strokeStyle: '#000', fillStyle: '#000' });
    this.hasInk = false;
    let last = null;
    const pos = (e) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
    };
    canvas.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      last = pos(e);
      this.ctx.beginPath();
      this.ctx.arc(last[0], last[1], LINE / 2, 0, 2 * Math.PI);
      this.ctx.fill();
      this.hasInk = true;
      onInk();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!last) return;
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      this.ctx.beginPath();
      this.ctx.moveTo(last[0], last[1]);
      for (const ev of events.length ? events : [e]) {
        last = pos(ev);
        this.ctx.lineTo(last[0], last[1]);
      }
      this.ctx.stroke();
      onInk();
    });
    const end = () => { last = null; };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.hasInk = false;
  }

  /** Shows a 28×28 grey digit (0 = background, 255 = ink) on the pad, scaled up. */
  showDigit(pixels, side = 28) {
    const img = new ImageData(side, side);
    for (let i = 0; i < side * side; i++) img.data.set([0, 0, 0, pixels[i]], i * 4);
    const tmp = new OffscreenCanvas(side, side);
    tmp.getContext('2d').putImageData(img, 0, 0);
    this.clear();
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(tmp, 0, 0, this.canvas.width, this.canvas.height);
    this.hasInk = true;
  }

  /** The ink, width × height values in [0, 1]. */
  ink() {
    const { width, height } = this.canvas;
    const { data } = this.ctx.getImageData(0, 0, width, height);
    const ink = new Float32Array(width * height);
    for (let i = 0; i < ink.length; i++) ink[i] = data[i * 4 + 3] / 255;
    return { ink, width, height };
  }
}
