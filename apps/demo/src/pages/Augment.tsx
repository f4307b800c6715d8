// Augmentation: training images and what each transform of @minibatch/augment makes of them,
// redrawn as the controls change. The pipeline is the same list of specs a run config's
// "augment" takes.
import { useEffect, useState } from 'preact/hooks';
import { useDemoWorker } from '../client.js';
import { EngineBar } from '../components/Engine.js';
import { NumberField, Select, checkNumber, type NumberSpec } from '../components/Form.js';
import { ImageGrid } from '../components/Images.js';
import { useDatasets } from '../site.js';

interface Control {
  name: string;
  title: string;
  spec: NumberSpec;
  initial: string;
  /** The registry spec for the value typed. */
  make: (v: number) => { name: string; config: Record<string, unknown> };
}

const CONTROLS: Control[] = [
  { name: 'rotate', title: 'rotation', spec: { label: 'largest angle (degrees)', min: 0, max: 180 }, initial: '15', make: (v) => ({ name: 'rotate', config: { degrees: v } }) },
  { name: 'translate', title: 'shift', spec: { label: 'largest shift (fraction of the side)', min: 0, max: 0.5 }, initial: '0.1', make: (v) => ({ name: 'translate', config: { x: v, y: v } }) },
  { name: 'zoom', title: 'zoom', spec: { label: 'zoom range ±', min: 0, max: 0.5 }, initial: '0.1', make: (v) => ({ name: 'zoom', config: { scale: [1 - v, 1 + v] } }) },
  { name: 'flip', title: 'horizontal flip', spec: { label: 'probability', min: 0, max: 1 }, initial: '0.5', make: (v) => ({ name: 'flip', config: { p: v } }) },
  { name: 'gaussianBlur', title: 'Gaussian blur', spec: { label: 'largest σ (pixels)', min: 0.1, max: 3 }, initial: '1', make: (v) => ({ name: 'gaussianBlur', config: { sigma: [0.1, v], p: 1 } }) },
  { name: 'gaussianNoise', title: 'Gaussian noise', spec: { label: 'std', min: 0, max: 1 }, initial: '0.1', make: (v) => ({ name: 'gaussianNoise', config: { std: v, clip: [0, 1] } }) },
  { name: 'randomErasing', title: 'random erasing', spec: { label: 'probability', min: 0, max: 1 }, initial: '0.5', make: (v) => ({ name: 'randomErasing', config: { p: v } }) },
  { name: 'cutout', title: 'cutout', spec: { label: 'hole side (pixels)', min: 1, max: 28, integer: true }, initial: '8', make: (v) => ({ name: 'cutout', config: { size: v } }) },
];

export function AugmentPage() {
  const state = useDemoWorker();
  const { worker } = state;
  const datasets = useDatasets();
  const [dataset, setDataset] = useState('mnist');
  const [on, setOn] = useState<Record<string, boolean>>({ rotate: true, translate: true });
  const [texts, setTexts] = useState<Record<string, string>>(Object.fromEntries(CONTROLS.map((c) => [c.name, c.initial])));
  const [seed, setSeed] = useState(1);
  const [preview, setPreview] = useState<{ originals: Float32Array; augmented: Float32Array; count: number; h: number; w: number; key: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const invalid = CONTROLS.some((c) => on[c.name] && 'error' in checkNumber(c.spec, texts[c.name]));
  const specs = CONTROLS.filter((c) => on[c.name]).map((c) => c.make(Number(texts[c.name])));
  const key = JSON.stringify([dataset, specs, seed]);
  useEffect(() => {
    if (worker === null || invalid) return;
    let current = true;
    worker.request<{ originals: Float32Array; augmented: Float32Array; count: number; h: number; w: number }>('augment:preview', { options: { dataset, specs, count: 16, seed } })
      .then((p) => { if (current) { setPreview({ ...p, key }); setMessage(null); } }, (e: Error) => current && setMessage(e.message));
    return () => void (current = false);
  }, [worker, key, invalid]);

  const cells = (values: Float32Array | undefined, what: string) => preview === null || values === undefined ? [] : Array.from({ length: preview.count }, (_, i) => ({
    pixels: values.subarray(i * preview.h * preview.w, (i + 1) * preview.h * preview.w), caption: `${what} ${i + 1}`,
  }));
  return (
    <section aria-labelledby="augment-title">
      <h1 id="augment-title">Data augmentation</h1>
      <EngineBar state={state} />
      <div class="layout">
        <form class="controls" aria-label="augmentations" onSubmit={(e) => { e.preventDefault(); setSeed((s) => s + 1); }}>
          <Select id="aug-dataset" label="data" value={dataset} onChange={setDataset} options={(datasets ?? []).map((d) => [d.name, d.title] as const)} />
          {CONTROLS.map((c) => (
            <fieldset key={c.name} class="transform">
              <legend>
                <label><input type="checkbox" id={`aug-${c.name}`} checked={on[c.name] === true} onChange={(e) => setOn({ ...on, [c.name]: (e.target as HTMLInputElement).checked })} /> {c.title}</label>
              </legend>
              {on[c.name] && <NumberField id={`aug-${c.name}-value`} spec={c.spec} text={texts[c.name]} onInput={(t) => setTexts({ ...texts, [c.name]: t })} />}
            </fieldset>
          ))}
          <button type="submit" id="aug-redraw" disabled={invalid}>New random draw</button>
          {message !== null && <p class="error" role="alert">{message}</p>}
        </form>
        <div class="results">
          <p id="aug-pipeline" data-key={preview?.key ?? ''}>Pipeline, in order: {specs.length === 0 ? 'none' : specs.map((s) => s.name).join(' → ')} (draw {seed}).</p>
          <div class="panel"><h2>Originals</h2><ImageGrid label="original images" cells={cells(preview?.originals, 'original')} h={28} w={28} size={64} /></div>
          <div class="panel"><h2>Augmented</h2><ImageGrid label="augmented images" cells={cells(preview?.augmented, 'augmented')} h={28} w={28} size={64} /></div>
        </div>
      </div>
    </section>
  );
}
