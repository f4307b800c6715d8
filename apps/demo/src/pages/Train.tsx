// Live training: pick a model and how to train it, then watch the loss and accuracy curves, the
// first layer's filters, predictions on validation images and the confusion matrix change as
// it trains; draw a digit and see what the network makes of it.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useDemoWorker } from '../client.js';
import { COLORS, DASHES, LineChart } from '../components/Chart.js';
import { DrawPad } from '../components/DrawPad.js';
import { EngineBar } from '../components/Engine.js';
import { NumberField, Select, checkNumber } from '../components/Form.js';
import { ImageGrid, type Cell } from '../components/Images.js';
import { Probabilities } from '../components/Probabilities.js';
import { AUGMENTATIONS, DEFAULT_LR, LIMITS, MODELS, OPTIMIZERS, SCHEDULES, runConfig, type Settings } from '../configs.js';
import type { DatasetInfo, WorkerEvent } from '../protocol.js';
import { useDatasets } from '../site.js';

type Status = 'idle' | 'starting' | 'running' | 'paused' | 'done';
type Texts = Record<keyof typeof LIMITS, string>;

interface Curves {
  steps: number[];
  loss: (number | null)[];
  accuracy: (number | null)[];
  valLoss: (number | null)[];
  valAccuracy: (number | null)[];
}

const emptyCurves = (): Curves => ({ steps: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [] });

interface Validation {
  step: number;
  loss: number;
  accuracy: number;
  confusion: number[][];
  grid: number[];
  confidence: number[];
  filters: { images: Float32Array; count: number; h: number; w: number } | null;
}

interface Started {
  parameters: number;
  dataset: DatasetInfo;
  trainCount: number;
  validationCount: number;
  gridImages: Float32Array;
  gridLabels: number[];
}

export function TrainPage() {
  const state = useDemoWorker();
  const { worker } = state;
  const datasets = useDatasets();
  const [choice, setChoice] = useState<Pick<Settings, 'dataset' | 'model' | 'optimizer' | 'schedule' | 'augmentation'>>({
    dataset: 'mnist', model: 'mlp', optimizer: 'adam', schedule: 'constant', augmentation: 'none',
  });
  const [texts, setTexts] = useState<Texts>({ lr: '0.001', batchSize: '64', epochs: '5', dropout: '0', l2: '0' });
  const [status, setStatus] = useState<Status>('idle');
  const [message, setMessage] = useState<string | null>(null);
  const [started, setStarted] = useState<Started | null>(null);
  const [progress, setProgress] = useState<{ step: number; epoch: number; loss: number; samplesPerSecond: number; lr: number } | null>(null);
  const [curves, setCurves] = useState<Curves>(emptyCurves);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [drawn, setDrawn] = useState<Float32Array | null>(null);
  const [probs, setProbs] = useState<number[] | null>(null);

  const checked = Object.fromEntries(Object.entries(LIMITS).map(([k, spec]) => [k, checkNumber(spec, texts[k as keyof Texts])]));
  const invalid = Object.values(checked).some((c) => 'error' in c);

  useEffect(() => {
    if (worker === null) return;
    return worker.on((event: WorkerEvent) => {
      if (event.type === 'train:progress') {
        const p = event as unknown as { step: number; epoch: number; loss: number; accuracy: number; samplesPerSecond: number; lr: number };
        setProgress(p);
        setCurves((c) => ({
          steps: [...c.steps, p.step], loss: [...c.loss, p.loss], accuracy: [...c.accuracy, p.accuracy], valLoss: [...c.valLoss, null], valAccuracy: [...c.valAccuracy, null],
        }));
      } else if (event.type === 'train:validation') {
        const v = event as unknown as Validation;
        setValidation(v);
        setCurves((c) => {
          // The validation point sits on the last progress step (or adds one).
          const at = c.steps.lastIndexOf(v.step);
          if (at < 0) return { steps: [...c.steps, v.step], loss: [...c.loss, null], accuracy: [...c.accuracy, null], valLoss: [...c.valLoss, v.loss], valAccuracy: [...c.valAccuracy, v.accuracy] };
          const valLoss = c.valLoss.slice();
          const valAccuracy = c.valAccuracy.slice();
          valLoss[at] = v.loss;
          valAccuracy[at] = v.accuracy;
          return { ...c, valLoss, valAccuracy };
        });
      } else if (event.type === 'train:done') {
        setStatus('done');
      } else if (event.type === 'train:failed') {
        setStatus('paused');
        setMessage(String(event.message));
      }
    });
  }, [worker]);

  // Predict what is drawn, whenever the drawing or the model changes.
  useEffect(() => {
    if (worker === null || drawn === null || started === null) {
      setProbs(null);
      return;
    }
    let current = true;
    worker.request<number[]>('train:predict', { pixels: drawn }).then((p) => current && setProbs(p), () => current && setProbs(null));
    return () => void (current = false);
  }, [drawn, validation?.step, worker, started]);

  const settings = (): Settings => ({
    ...choice,
    lr: Number(texts.lr), batchSize: Number(texts.batchSize), epochs: Number(texts.epochs), dropout: Number(texts.dropout), l2: Number(texts.l2),
  });

  const start = async () => {
    if (worker === null || invalid) return;
    const info = datasets?.find((d) => d.name === choice.dataset);
    if (info === undefined) return;
    setStatus('starting');
    setMessage(null);
    setCurves(emptyCurves());
    setValidation(null);
    setProgress(null);
    try {
      const result = await worker.request<Started>('train:start', { config: runConfig(settings(), info.train) });
      setStarted(result);
      setStatus('running');
    } catch (error) {
      setStatus('idle');
      setMessage((error as Error).message);
    }
  };
  const pause = async () => {
    await worker?.request('train:pause');
    setStatus('paused');
  };
  const resume = async () => {
    await worker?.request('train:resume');
    setStatus('running');
  };
  const reset = async () => {
    await worker?.request('train:reset');
    setStatus('idle');
    setStarted(null);
    setCurves(emptyCurves());
    setValidation(null);
    setProgress(null);
    setMessage(null);
  };

  const classNames = started?.dataset.classNames ?? datasets?.find((d) => d.name === choice.dataset)?.classNames ?? [];
  const cells: Cell[] = useMemo(() => {
    if (started === null) return [];
    return started.gridLabels.map((label, i) => {
      const predicted = validation?.grid[i];
      return {
        pixels: started.gridImages.subarray(i * 784, (i + 1) * 784),
        caption: predicted === undefined ? classNames[label] : `${classNames[predicted]} (${Math.round((validation!.confidence[i] ?? 0) * 100)}%)`,
        wrong: predicted !== undefined && predicted !== label,
      };
    });
  }, [started, validation]);

  const running = status === 'running' || status === 'starting';
  return (
    <section aria-labelledby="train-title">
      <h1 id="train-title">Live training</h1>
      <EngineBar state={state} />
      <div class="layout">
        <form class="controls" onSubmit={(e) => { e.preventDefault(); void start(); }} aria-label="training settings">
          <Select id="dataset" label="data" value={choice.dataset} onChange={(dataset) => setChoice({ ...choice, dataset })}
            options={(datasets ?? []).map((d) => [d.name, `${d.title} (${d.train.toLocaleString()} train)`] as const)} />
          <Select id="model" label="model" value={choice.model} options={MODELS} onChange={(model) => setChoice({ ...choice, model })} />
          <Select id="optimizer" label="optimizer" value={choice.optimizer} options={OPTIMIZERS}
            onChange={(optimizer) => { setChoice({ ...choice, optimizer }); setTexts({ ...texts, lr: String(DEFAULT_LR[optimizer]) }); }} />
          <NumberField id="lr" spec={LIMITS.lr} text={texts.lr} onInput={(lr) => setTexts({ ...texts, lr })} />
          <Select id="schedule" label="schedule" value={choice.schedule} options={SCHEDULES} onChange={(schedule) => setChoice({ ...choice, schedule })} />
          <NumberField id="batch" spec={LIMITS.batchSize} text={texts.batchSize} onInput={(batchSize) => setTexts({ ...texts, batchSize })} />
          <NumberField id="epochs" spec={LIMITS.epochs} text={texts.epochs} onInput={(epochs) => setTexts({ ...texts, epochs })} />
          <NumberField id="dropout" spec={LIMITS.dropout} text={texts.dropout} onInput={(dropout) => setTexts({ ...texts, dropout })} />
          <NumberField id="l2" spec={LIMITS.l2} text={texts.l2} onInput={(l2) => setTexts({ ...texts, l2 })} />
          <Select id="augmentation" label="augmentation" value={choice.augmentation} options={AUGMENTATIONS} onChange={(augmentation) => setChoice({ ...choice, augmentation })} />
          <div class="buttons">
            <button type="submit" id="start" disabled={worker === null || invalid || running}>{status === 'idle' ? 'Start' : 'Restart with these settings'}</button>
            {status === 'running' && <button type="button" id="pause" onClick={pause}>Pause</button>}
            {status === 'paused' && <button type="button" id="resume" onClick={resume}>Resume</button>}
            <button type="button" id="reset" onClick={reset} disabled={status === 'idle'}>Reset</button>
          </div>
          {invalid && <p class="error" role="alert">Fix the fields marked above to start.</p>}
          {message !== null && <p class="error" role="alert" id="train-message">{message}</p>}
        </form>
        <div class="results">
          <p role="status" id="train-status" data-status={status} data-step={progress?.step ?? 0} data-val-accuracy={validation?.accuracy ?? ''}>
            {status === 'idle' && 'Pick the settings and press Start.'}
            {status === 'starting' && 'Loading the data and building the model…'}
            {progress !== null && status !== 'starting' && (
              <>
                {status === 'done' ? 'Done' : status === 'paused' ? 'Paused' : 'Training'}: step {progress.step}, epoch {progress.epoch}, batch loss {progress.loss.toFixed(3)},
                {' '}{Math.round(progress.samplesPerSecond).toLocaleString()} samples/s, learning rate {progress.lr.toPrecision(3)}
                {validation !== null && <>; validation accuracy <strong>{(validation.accuracy * 100).toFixed(1)}%</strong></>}
                {started !== null && <> ({started.parameters.toLocaleString()} parameters, {started.trainCount.toLocaleString()} training images)</>}
              </>
            )}
          </p>
          <div class="charts">
            <LineChart title="loss" xLabel="step" yLabel="cross-entropy" logY
              series={[{ label: 'train (batches)', color: COLORS[0], dash: DASHES[0] }, { label: 'validation', color: COLORS[1], dash: DASHES[1], points: true }]}
              data={[curves.steps, curves.loss, curves.valLoss]} />
            <LineChart title="accuracy" xLabel="step" yLabel="fraction correct" yRange={[0, 1]}
              series={[{ label: 'train (batches)', color: COLORS[0], dash: DASHES[0] }, { label: 'validation', color: COLORS[1], dash: DASHES[1], points: true }]}
              data={[curves.steps, curves.accuracy, curves.valAccuracy]} />
          </div>
          <div class="panels">
            <div class="panel">
              <h2>Draw a {choice.dataset === 'mnist' ? 'digit' : 'picture'}</h2>
              <DrawPad onChange={setDrawn} />
              <Probabilities probs={probs} classNames={classNames} label="class probabilities of the drawing" />
              {started === null && <p>Start training to see what the network makes of your drawing.</p>}
            </div>
            {validation?.filters && (
              <div class="panel">
                <h2>First layer's weights</h2>
                <ImageGrid label="first-layer filters" h={validation.filters.h} w={validation.filters.w} size={40}
                  cells={Array.from({ length: validation.filters.count }, (_, i) => ({
                    pixels: validation.filters!.images.subarray(i * validation.filters!.h * validation.filters!.w, (i + 1) * validation.filters!.h * validation.filters!.w),
                    caption: `#${i + 1}`,
                  }))} />
              </div>
            )}
          </div>
          {cells.length > 0 && (
            <div class="panel">
              <h2>Validation images: predicted class (confidence); ✗ marks a mistake</h2>
              <ImageGrid label="validation predictions" cells={cells} h={28} w={28} />
            </div>
          )}
          {validation !== null && <Confusion matrix={validation.confusion} classNames={classNames} />}
        </div>
      </div>
    </section>
  );
}

function Confusion(props: { matrix: number[][]; classNames: string[] }) {
  const max = Math.max(...props.matrix.flat(), 1);
  return (
    <div class="panel">
      <h2>Confusion matrix (validation): rows are true classes, columns predictions</h2>
      <table class="confusion">
        <thead>
          <tr><th scope="col">true \ predicted</th>{props.classNames.map((n) => <th scope="col" key={n}>{n}</th>)}</tr>
        </thead>
        <tbody>
          {props.matrix.map((row, r) => (
            <tr key={r}>
              <th scope="row">{props.classNames[r]}</th>
              {row.map((v, c) => (
                <td key={c} class={r === c ? 'diagonal' : v > 0 ? 'off' : ''} style={{ '--shade': String(v / max) }}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
