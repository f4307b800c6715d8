// The optimizer race: the same network, the same initial weights and batches, every optimizer;
// then the lectures' pictures — each optimizer's path over a ravine, Rosenbrock's valley and a
// saddle, drawn over the function's contours.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { useDemoWorker } from '../client.js';
import { COLORS, DASHES, LineChart } from '../components/Chart.js';
import { EngineBar } from '../components/Engine.js';
import { NumberField, Select, checkNumber, type NumberSpec } from '../components/Form.js';

const RACERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'lbfgs'] as const;
type Racer = (typeof RACERS)[number];
const TITLES: Record<Racer, string> = {
  sgd: 'SGD', momentum: 'momentum', nesterov: 'Nesterov', adagrad: 'AdaGrad', rmsprop: 'RMSProp', adam: 'Adam', lbfgs: 'L-BFGS',
};
const NETWORK_LR: Record<Racer, number> = { sgd: 0.1, momentum: 0.01, nesterov: 0.01, adagrad: 0.02, rmsprop: 0.001, adam: 0.001, lbfgs: 1 };

const SURFACES = [['ravine', 'a ravine: 0.05x² + 2y²'], ['rosenbrock', "Rosenbrock's valley"], ['saddle', 'a saddle: x² − y² + y⁴/4']] as const;
type SurfaceName = (typeof SURFACES)[number][0];
const BOUNDS: Record<SurfaceName, { x: [number, number]; y: [number, number] }> = {
  ravine: { x: [-5, 5], y: [-2, 2] }, rosenbrock: { x: [-2, 2], y: [-1, 3] }, saddle: { x: [-2, 2], y: [-2, 2] },
};
const SURFACE_LR: Record<SurfaceName, Record<Racer, number>> = {
  ravine: { sgd: 0.45, momentum: 0.05, nesterov: 0.05, adagrad: 0.5, rmsprop: 0.05, adam: 0.1, lbfgs: 1 },
  rosenbrock: { sgd: 0.001, momentum: 0.0002, nesterov: 0.0002, adagrad: 0.5, rmsprop: 0.01, adam: 0.05, lbfgs: 1 },
  saddle: { sgd: 0.05, momentum: 0.01, nesterov: 0.01, adagrad: 0.2, rmsprop: 0.02, adam: 0.05, lbfgs: 1 },
};

const LR: NumberSpec = { label: 'learning rate', min: 1e-6, max: 10 };
const STEPS: NumberSpec = { label: 'steps', min: 10, max: 2000, integer: true };
const lrTexts = (lrs: Record<Racer, number>) => Object.fromEntries(RACERS.map((r) => [r, String(lrs[r])])) as Record<Racer, string>;

function LrTable(props: { texts: Record<Racer, string>; onInput: (r: Racer, text: string) => void; prefix: string }) {
  return (
    <div class="lr-table">
      {RACERS.map((r) => (
        <NumberField key={r} id={`${props.prefix}-${r}`} spec={{ ...LR, label: `${TITLES[r]} learning rate` }} text={props.texts[r]} onInput={(t) => props.onInput(r, t)} />
      ))}
    </div>
  );
}

const valid = (texts: Record<string, string>, spec: NumberSpec) => Object.values(texts).every((t) => !('error' in checkNumber(spec, t)));

export function RacePage() {
  const state = useDemoWorker();
  const { worker } = state;
  const [texts, setTexts] = useState(lrTexts(NETWORK_LR));
  const [stepsText, setStepsText] = useState('300');
  const [losses, setLosses] = useState<Record<Racer, number[]>>(() => Object.fromEntries(RACERS.map((r) => [r, []])) as unknown as Record<Racer, number[]>);
  const [racing, setRacing] = useState<'idle' | 'running' | 'done'>('idle');
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    if (worker === null) return;
    return worker.on((event) => {
      if (event.type === 'race:losses') {
        const update = event.losses as Record<Racer, number[]>;
        setLosses((old) => Object.fromEntries(RACERS.map((r) => [r, [...old[r], ...(update[r] ?? [])]])) as Record<Racer, number[]>);
        if (event.done === true) setRacing('done');
      } else if (event.type === 'race:failed') {
        setRacing('done');
        setMessage(String(event.message));
      }
    });
  }, [worker]);

  const networkValid = valid(texts, LR) && !('error' in checkNumber(STEPS, stepsText));
  const race = async () => {
    if (worker === null || !networkValid) return;
    setLosses(Object.fromEntries(RACERS.map((r) => [r, []])) as unknown as Record<Racer, number[]>);
    setMessage(null);
    setRacing('running');
    try {
      await worker.request('race:network', { options: { lrs: Object.fromEntries(RACERS.map((r) => [r, Number(texts[r])])), steps: Number(stepsText) } });
    } catch (error) {
      setRacing('idle');
      setMessage((error as Error).message);
    }
  };
  const stop = async () => {
    await worker?.request('race:stop');
    setRacing('done');
  };

  // Smoothed curves (an exponential moving average of the batch losses) on one step axis.
  const chart = useMemo(() => {
    const longest = Math.max(0, ...RACERS.map((r) => losses[r].length));
    const xs = Array.from({ length: longest }, (_, i) => i + 1);
    const ys = RACERS.map((r) => {
      let ema: number | null = null;
      return xs.map((_, i) => {
        const v = losses[r][i];
        if (v === undefined) return null;
        ema = ema === null ? v : 0.9 * ema + 0.1 * v;
        return ema;
      });
    });
    return [xs, ...ys];
  }, [losses]);

  return (
    <section aria-labelledby="race-title">
      <h1 id="race-title">Optimizer race</h1>
      <EngineBar state={state} />
      <div class="layout">
        <form class="controls" aria-label="race settings" onSubmit={(e) => { e.preventDefault(); void race(); }}>
          <p>An MLP (784-64-10) on 2,000 MNIST digits, batches of 64, the same initial weights and batches for every optimizer. L-BFGS, a full-batch method, steps on a fixed batch of 1,024.</p>
          <LrTable prefix="net" texts={texts} onInput={(r, t) => setTexts({ ...texts, [r]: t })} />
          <NumberField id="race-steps" spec={STEPS} text={stepsText} onInput={setStepsText} />
          <div class="buttons">
            <button type="submit" id="race-start" disabled={worker === null || !networkValid || racing === 'running'}>Race</button>
            {racing === 'running' && <button type="button" onClick={stop}>Stop</button>}
          </div>
          {message !== null && <p class="error" role="alert">{message}</p>}
        </form>
        <div class="results">
          <LineChart title="training loss (moving average of the batch losses)" xLabel="step" yLabel="cross-entropy" logY height={300}
            series={RACERS.map((r, i) => ({ label: TITLES[r], color: COLORS[i], dash: DASHES[i] }))} data={chart} />
          <table class="figures" id="race-table" data-state={racing}>
            <thead><tr><th>optimizer</th><th>steps</th><th>loss (smoothed)</th></tr></thead>
            <tbody>
              {RACERS.map((r, i) => {
                const last = chart[i + 1][chart[0].length - 1] ?? chart[i + 1].filter((v) => v !== null).at(-1);
                return (
                  <tr key={r} data-racer={r} data-steps={losses[r].length}>
                    <td>{TITLES[r]}</td>
                    <td>{losses[r].length}</td>
                    <td>{last === null || last === undefined ? '–' : last.toFixed(4)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>
      <Surfaces worker={worker} />
    </section>
  );
}

function heatImage(values: Float32Array, size: number): HTMLCanvasElement {
  // Filled contours: log-spaced levels of f − min, each band a shade; darker is lower.
  let lo = Infinity;
  for (const v of values) lo = Math.min(lo, v);
  const levels = values.map((v) => Math.log1p(v - lo));
  let hi = 0;
  for (const v of levels) hi = Math.max(hi, v);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const band = Math.floor((levels[i] / (hi || 1)) * 14) / 14;
    image.data[i * 4] = 60 + 190 * band;
    image.data[i * 4 + 1] = 70 + 180 * band;
    image.data[i * 4 + 2] = 110 + 140 * band;
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function Surfaces(props: { worker: ReturnType<typeof useDemoWorker>['worker'] }) {
  const { worker } = props;
  const [surface, setSurface] = useState<SurfaceName>('ravine');
  const [texts, setTexts] = useState(lrTexts(SURFACE_LR.ravine));
  const [stepsText, setStepsText] = useState('150');
  const [result, setResult] = useState<{ surface: SurfaceName; heat: HTMLCanvasElement; paths: Record<Racer, [number, number][]> } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const ok = valid(texts, LR) && !('error' in checkNumber(STEPS, stepsText));

  const draw = async (name = surface, lrs = texts) => {
    if (worker === null || !ok) return;
    setMessage(null);
    try {
      const r = await worker.request<{ grid: { values: Float32Array; size: number }; paths: Record<Racer, [number, number][]> }>('race:surface', {
        surface: name, options: { lrs: Object.fromEntries(RACERS.map((k) => [k, Number(lrs[k])])), steps: Number(stepsText) },
      });
      setResult({ surface: name, heat: heatImage(r.grid.values, r.grid.size), paths: r.paths });
    } catch (error) {
      setMessage((error as Error).message);
    }
  };
  useEffect(() => void draw(), [worker]);

  const bounds = BOUNDS[result?.surface ?? surface];
  const background = (u: uPlot) => {
    if (result === null) return;
    u.ctx.drawImage(result.heat, u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  };
  return (
    <section class="surfaces" aria-labelledby="surface-title">
      <h2 id="surface-title">Paths on 2-D test functions</h2>
      <div class="layout">
        <form class="controls" aria-label="surface settings" onSubmit={(e) => { e.preventDefault(); void draw(); }}>
          <Select id="surface" label="function" value={surface} options={SURFACES}
            onChange={(s) => { setSurface(s); const lrs = lrTexts(SURFACE_LR[s]); setTexts(lrs); void draw(s, lrs); }} />
          <LrTable prefix="surface" texts={texts} onInput={(r, t) => setTexts({ ...texts, [r]: t })} />
          <NumberField id="surface-steps" spec={STEPS} text={stepsText} onInput={setStepsText} />
          <button type="submit" id="surface-draw" disabled={worker === null || !ok}>Draw the paths</button>
          {message !== null && <p class="error" role="alert">{message}</p>}
        </form>
        <div class="results">
          <LineChart title={`paths from the same start (contours: darker is lower); ${SURFACES.find(([s]) => s === (result?.surface ?? surface))![1]}`}
            xLabel="x" yLabel="y" mode2 height={420} xRange={bounds.x} yRange={bounds.y} background={background}
            series={RACERS.map((r, i) => ({ label: TITLES[r], color: COLORS[i], dash: DASHES[i], points: true }))}
            data={RACERS.map((r) => (result === null ? [[], []] : [result.paths[r].map((p) => p[0]), result.paths[r].map((p) => p[1])]))} />
          {result !== null && (
            <table class="figures" id="surface-table" data-surface={result.surface}>
              <thead><tr><th>optimizer</th><th>steps taken</th><th>where it ended</th></tr></thead>
              <tbody>
                {RACERS.map((r) => {
                  const path = result.paths[r];
                  const end = path[path.length - 1];
                  return <tr key={r} data-racer={r}><td>{TITLES[r]}</td><td>{path.length - 1}</td><td>({end[0].toFixed(3)}, {end[1].toFixed(3)})</td></tr>;
                })}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </section>
  );
}
