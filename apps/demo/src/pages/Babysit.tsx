// Babysitting the learning process: the monitors of @minibatch/train live while a network
// trains — update/weight ratios, per-layer activation histograms, dead ReLUs, saturation — with
// their diagnoses in words; and the weight-initialization experiment.
import { useEffect, useState } from 'preact/hooks';
import { useDemoWorker } from '../client.js';
import { COLORS, DASHES, LineChart } from '../components/Chart.js';
import { EngineBar } from '../components/Engine.js';
import { NumberField, Select, checkNumber } from '../components/Form.js';

interface Layer {
  label: string;
  activation?: string | null;
  mean: number;
  std: number;
  dead?: number | null;
  saturated?: number | null;
  nonFinite?: number;
  histogram: { edges: number[]; counts: number[] };
}
interface Diagnosis {
  subject: string;
  message: string;
}

const ACTIVATIONS = [['relu', 'ReLU'], ['tanh', 'tanh'], ['sigmoid', 'sigmoid']] as const;
const INITS = [['heNormal', 'He (√(2/fan-in))'], ['xavierNormal', 'Xavier (√(2/(fan-in + fan-out)))'], ['gaussian', 'Gaussian, std 0.01']] as const;
const INPUTS = [['1', 'pixels in [0, 1]'], ['255', 'raw bytes 0…255 (not normalized)']] as const;
const LR = { label: 'learning rate (SGD, momentum 0.9)', min: 1e-6, max: 10 };

function Histogram(props: { layer: Layer }) {
  const { layer } = props;
  const { edges, counts } = layer.histogram;
  if (counts.length === 0) {
    return <div class="histogram"><h3>{layer.label}</h3><p class="stats">no finite values: the run diverged</p></div>;
  }
  const centers = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  const extra = [
    layer.dead != null ? `dead ${(layer.dead * 100).toFixed(0)}%` : null,
    layer.saturated != null ? `saturated ${(layer.saturated * 100).toFixed(0)}%` : null,
    layer.nonFinite ? `NaN/Inf ${(layer.nonFinite * 100).toFixed(0)}%` : null,
  ].filter(Boolean).join(', ');
  return (
    <div class="histogram">
      <LineChart title={`${layer.label}${layer.activation ? ` (${layer.activation})` : ''}`} xLabel="activation" yLabel="count" bars height={150}
        series={[{ label: 'count', color: COLORS[0] }]} data={[centers, counts]} />
      <p class="stats">mean {layer.mean.toFixed(3)}, std {layer.std.toPrecision(3)}{extra ? `, ${extra}` : ''}</p>
    </div>
  );
}

function Diagnoses(props: { items: Diagnosis[] | null; id: string }) {
  if (props.items === null) return null;
  return props.items.length === 0
    ? <p class="ok" id={props.id} data-count={0}>✓ Nothing looks wrong.</p>
    : (
      <ul class="diagnoses" id={props.id} data-count={props.items.length} aria-label="diagnoses">
        {props.items.map((d, i) => <li key={i}><strong>⚠ {d.subject}:</strong> {d.message}</li>)}
      </ul>
    );
}

export function BabysitPage() {
  const state = useDemoWorker();
  const { worker } = state;
  const [activation, setActivation] = useState<(typeof ACTIVATIONS)[number][0]>('relu');
  const [init, setInit] = useState<(typeof INITS)[number][0]>('heNormal');
  const [input, setInput] = useState<(typeof INPUTS)[number][0]>('1');
  const [lrText, setLrText] = useState('0.01');
  const [running, setRunning] = useState(false);
  const [losses, setLosses] = useState<number[]>([]);
  const [ratios, setRatios] = useState<{ steps: number[]; byName: Record<string, (number | null)[]> }>({ steps: [], byName: {} });
  const [layers, setLayers] = useState<Layer[]>([]);
  const [diagnoses, setDiagnoses] = useState<Diagnosis[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const lrOk = !('error' in checkNumber(LR, lrText));

  useEffect(() => {
    if (worker === null) return;
    return worker.on((event) => {
      if (event.type === 'babysit:update') {
        const u = event as unknown as { step: number; losses: number[]; layers: Layer[]; parameters: { name: string; ratio: number | null }[]; diagnoses: Diagnosis[]; done: boolean };
        setLosses((l) => [...l, ...u.losses]);
        setLayers(u.layers);
        setDiagnoses(u.diagnoses);
        setRatios((r) => {
          const byName = { ...r.byName };
          for (const p of u.parameters) byName[p.name] = [...(byName[p.name] ?? r.steps.map(() => null)), p.ratio];
          return { steps: [...r.steps, u.step], byName };
        });
        if (u.done) setRunning(false);
      } else if (event.type === 'babysit:failed') {
        setRunning(false);
        setMessage(String(event.message));
      }
    });
  }, [worker]);

  const start = async () => {
    if (worker === null || !lrOk) return;
    setLosses([]);
    setRatios({ steps: [], byName: {} });
    setLayers([]);
    setDiagnoses(null);
    setMessage(null);
    setRunning(true);
    try {
      await worker.request('babysit:start', { options: { activation, init, lr: Number(lrText), inputScale: Number(input) } });
    } catch (error) {
      setRunning(false);
      setMessage((error as Error).message);
    }
  };
  const stop = async () => {
    await worker?.request('babysit:stop');
    setRunning(false);
  };

  const names = Object.keys(ratios.byName);
  return (
    <section aria-labelledby="babysit-title">
      <h1 id="babysit-title">Babysitting the learning process</h1>
      <EngineBar state={state} />
      <div class="layout">
        <form class="controls" aria-label="run settings" onSubmit={(e) => { e.preventDefault(); void start(); }}>
          <p>An MLP with three hidden layers of 128 units on MNIST, watched every 20 steps. Try a learning rate of 1 or 1e-5, Gaussian 0.01 init, or raw-byte inputs with sigmoid.</p>
          <Select id="bs-activation" label="hidden activation" value={activation} options={ACTIVATIONS} onChange={setActivation} />
          <Select id="bs-init" label="weight init" value={init} options={INITS} onChange={setInit} />
          <Select id="bs-input" label="inputs" value={input} options={INPUTS} onChange={setInput} />
          <NumberField id="bs-lr" spec={LR} text={lrText} onInput={setLrText} />
          <div class="buttons">
            <button type="submit" id="babysit-start" disabled={worker === null || !lrOk || running}>Train and watch</button>
            {running && <button type="button" onClick={stop}>Stop</button>}
          </div>
          {message !== null && <p class="error" role="alert">{message}</p>}
        </form>
        <div class="results">
          <div class="panel">
            <h2>Diagnoses</h2>
            {diagnoses === null ? <p>Start a run: what the monitors see appears here.</p> : <Diagnoses items={diagnoses} id="babysit-diagnoses" />}
          </div>
          <div class="charts">
            <LineChart title="training loss (batches)" xLabel="step" yLabel="cross-entropy" logY series={[{ label: 'loss', color: COLORS[0] }]}
              data={[losses.map((_, i) => i + 1), losses]} />
            <LineChart title="update / weight ratio ‖Δw‖/‖w‖ (healthy ≈ 1e-3)" xLabel="step" yLabel="ratio" logY
              series={names.map((n, i) => ({ label: n, color: COLORS[i % COLORS.length], dash: DASHES[i % DASHES.length], points: true }))}
              data={[ratios.steps, ...names.map((n) => ratios.byName[n])]} />
          </div>
          {layers.length > 0 && (
            <div class="panel" id="babysit-layers">
              <h2>Activations per layer (256 validation images)</h2>
              <div class="charts">{layers.map((l) => <Histogram key={l.label} layer={l} />)}</div>
            </div>
          )}
        </div>
      </div>
      <InitExperiment worker={worker} />
    </section>
  );
}

function InitExperiment(props: { worker: ReturnType<typeof useDemoWorker>['worker'] }) {
  const [activation, setActivation] = useState<'tanh' | 'relu'>('tanh');
  const [init, setInit] = useState<(typeof INITS)[number][0]>('gaussian');
  const [result, setResult] = useState<{ layers: Layer[]; diagnoses: Diagnosis[] } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = async () => {
    if (props.worker === null) return;
    setMessage(null);
    try {
      setResult(await props.worker.request('babysit:init', { options: { activation, init } }));
    } catch (error) {
      setMessage((error as Error).message);
    }
  };
  return (
    <section aria-labelledby="init-title">
      <h2 id="init-title">Weight initialization: activations through 10 layers of 256 units</h2>
      <div class="layout">
        <form class="controls" aria-label="initialization experiment" onSubmit={(e) => { e.preventDefault(); void run(); }}>
          <p>Unit-Gaussian inputs through 10 layers. Small Gaussians make the activations vanish with depth; Xavier keeps tanh alive; ReLU needs He.</p>
          <Select id="init-activation" label="activation" value={activation} options={[['tanh', 'tanh'], ['relu', 'ReLU']] as const} onChange={setActivation} />
          <Select id="init-init" label="weight init" value={init} options={INITS} onChange={setInit} />
          <button type="submit" id="init-run" disabled={props.worker === null}>Run the experiment</button>
          {message !== null && <p class="error" role="alert">{message}</p>}
        </form>
        <div class="results">
          {result !== null && (
            <>
              <Diagnoses items={result.diagnoses} id="init-diagnoses" />
              <LineChart title="standard deviation of each layer's activations" xLabel="layer" yLabel="std" logY series={[{ label: 'std', color: COLORS[1], points: true }]}
                data={[result.layers.map((_, i) => i + 1), result.layers.map((l) => Math.max(l.std, 1e-12))]} />
              <div class="charts" id="init-layers">{result.layers.map((l) => <Histogram key={l.label} layer={l} />)}</div>
            </>
          )}
        </div>
      </div>
    </section>
  );
}
