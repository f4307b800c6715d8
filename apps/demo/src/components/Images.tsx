// Grey (or RGB) images drawn from float pixels in [0, 1], each with a caption in words.
import { useEffect, useRef } from 'preact/hooks';

export function drawPixels(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, h: number, w: number, channels = 1): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[i * channels + (channels === 3 ? c : 0)];
      image.data[i * 4 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

export function PixelImage(props: { pixels: ArrayLike<number>; h: number; w: number; channels?: number; size?: number; label?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => drawPixels(canvas.current!, props.pixels, props.h, props.w, props.channels ?? 1), [props.pixels, props.h, props.w]);
  const size = props.size ?? 56;
  return <canvas ref={canvas} class="pixels" style={{ width: `${size}px`, height: `${size}px` }} role="img" aria-label={props.label ?? 'image'} />;
}

export interface Cell {
  pixels: ArrayLike<number>;
  caption: string;
  /** Marks the cell (a wrong prediction): a border and the caption's ✗. */
  wrong?: boolean;
}

export function ImageGrid(props: { cells: Cell[]; h: number; w: number; channels?: number; size?: number; label: string }) {
  return (
    <div class="grid" role="list" aria-label={props.label}>
      {props.cells.map((cell, i) => (
        <figure key={i} class={cell.wrong ? 'cell wrong' : 'cell'} role="listitem">
          <PixelImage pixels={cell.pixels} h={props.h} w={props.w} channels={props.channels} size={props.size} label={cell.caption} />
          <figcaption>{cell.wrong ? `✗ ${cell.caption}` : cell.caption}</figcaption>
        </figure>
      ))}
    </div>
  );
}
