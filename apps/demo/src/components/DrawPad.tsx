// A canvas to draw a digit on. What is drawn is turned into a 28×28 image the way MNIST's digits
// were made: the ink's bounding box scaled to fit 20×20, then placed so that its centre of mass
// is the image's centre.
import { useEffect, useRef } from 'preact/hooks';

const SIZE = 280;

/** The drawing as MNIST-style pixels in [0, 1] (784 values), or null when nothing is drawn. */
export function toMnist(canvas: HTMLCanvasElement): Float32Array | null {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      if (data[(y * canvas.width + x) * 4] > 20) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = 20 / Math.max(bw, bh);
  const [dw, dh] = [Math.max(1, bw * scale), Math.max(1, bh * scale)];
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const sctx = small.getContext('2d', { willReadFrequently: true })!;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(canvas, x0, y0, bw, bh, (28 - dw) / 2, (28 - dh) / 2, dw, dh);
  const boxed = sctx.getImageData(0, 0, 28, 28).data;
  let [mass, mx, my] = [0, 0, 0];
  for (let i = 0; i < 784; i++) {
    const v = boxed[i * 4];
    mass += v;
    mx += v * (i % 28);
    my += v * Math.floor(i / 28);
  }
  const [sx, sy] = [Math.round(13.5 - mx / mass), Math.round(13.5 - my / mass)];
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const [fx, fy] = [x - sx, y - sy];
      if (fx >= 0 && fx < 28 && fy >= 0 && fy < 28) out[y * 28 + x] = boxed[(fy * 28 + fx) * 4] / 255;
    }
  }
  return out;
}

export function DrawPad(props: { onChange: (pixels: Float32Array | null) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const last = useRef<[number, number] | null>(null);
  const clear = () => {
    const ctx = canvas.current!.getContext('2d', { willReadFrequently: true })!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, SIZE, SIZE);
    props.onChange(null);
  };
  useEffect(clear, []);
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.current!.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * SIZE, ((e.clientY - r.top) / r.height) * SIZE];
  };
  const line = (to: [number, number]) => {
    const ctx = canvas.current!.getContext('2d', { willReadFrequently: true })!;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 20;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath();
    const from = last.current ?? to;
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    last.current = to;
  };
  return (
    <div class="drawpad">
      <canvas
        ref={canvas}
        width={SIZE}
        height={SIZE}
        aria-label="drawing area: draw a digit with the mouse, a pen or a finger"
        onPointerDown={(e) => {
          drawing.current = true;
          last.current = null;
          canvas.current!.setPointerCapture(e.pointerId);
          line(at(e));
          props.onChange(toMnist(canvas.current!));
        }}
        onPointerMove={(e) => {
          if (!drawing.current) return;
          line(at(e));
          props.onChange(toMnist(canvas.current!));
        }}
        onPointerUp={() => {
          drawing.current = false;
          last.current = null;
        }}
      />
      <button type="button" onClick={clear}>Clear drawing</button>
    </div>
  );
}
