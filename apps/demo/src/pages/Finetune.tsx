// Fine-tuning, Teachable-Machine style: a pretrained MobileNetV2 (frozen) with a new head trained
// on a few pictures per class that the person adds — files or webcam snapshots — then live
// predictions.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useDemoWorker } from '../client.js';
import { COLORS, LineChart } from '../components/Chart.js';
import { EngineBar } from '../components/Engine.js';
import { PixelImage } from '../components/Images.js';
import { Probabilities } from '../components/Probabilities.js';

/** The side of the images the backbone sees (the worker's SIDE). */
const SIDE = 96;
const MAX_CLASSES = 5;

/** A picture as SIDE × SIDE RGB in [0, 1]: the centred square of the source, resized. */
function toPixels(source: CanvasImageSource, width: number, height: number): Float32Array {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = SIDE;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const side = Math.min(width, height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, SIDE, SIDE);
  const { data } = ctx.getImageData(0, 0, SIDE, SIDE);
  const out = new Float32Array(SIDE * SIDE * 3);
  for (let i = 0; i < SIDE * SIDE; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * 4 + c] / 255;
  return out;
}

/** Decodes image files; what is not an image is named in `rejected`. */
async function readImages(files: FileList | File[]): Promise<{ images: Float32Array[]; rejected: string[] }> {
  const images: Float32Array[] = [];
  const rejected: string[] = [];
  for (const file of Array.from(files)) {
    try {
      if (!file.type.startsWith('image/')) throw new Error('not an image');
      const bitmap = await createImageBitmap(file);
      images.push(toPixels(bitmap, bitmap.width, bitmap.height));
      bitmap.close();
    } catch {
      rejected.push(`${file.name} (${file.type || 'unknown type'})`);
    }
  }
  return { images, rejected };
}

interface ClassState {
  name: string;
  images: Float32Array[];
}

export function FinetunePage() {
  const state = useDemoWorker();
  const { worker } = state;
  const [backbone, setBackbone] = useState<{ parameters: number; cut: string } | null>(null);
  const [classes, setClasses] = useState<ClassState[]>([{ name: 'class 1', images: [] }, { name: 'class 2', images: [] }]);
  const [message, setMessage] = useState<string | null>(null);
  const [training, setTraining] = useState<{ losses: number[]; accuracy: number; seconds: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [probs, setProbs] = useState<number[] | null>(null);
  const [tested, setTested] = useState<Float32Array | null>(null);
  const [camera, setCamera] = useState<MediaStream | null>(null);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (worker === null) return;
    worker.request<{ parameters: number; cut: string }>('finetune:prepare').then(setBackbone, (e: Error) => setMessage(`the pretrained model did not load: ${e.message}`));
  }, [worker]);
  useEffect(() => () => camera?.getTracks().forEach((t) => t.stop()), [camera]);
  useEffect(() => {
    if (video.current !== null && camera !== null) video.current.srcObject = camera;
  }, [camera]);

  // With the camera on and a trained head, classify what it sees about twice a second.
  useEffect(() => {
    if (camera === null || training === null || worker === null) return;
    const timer = setInterval(() => {
      const v = video.current;
      if (v === null || v.videoWidth === 0) return;
      const pixels = toPixels(v, v.videoWidth, v.videoHeight);
      worker.request<number[]>('finetune:classify', { pixels }).then(setProbs, () => undefined);
    }, 500);
    return () => clearInterval(timer);
  }, [camera, training, worker]);

  const add = async (label: number, images: Float32Array[]) => {
    if (worker === null) return;
    for (const pixels of images) await worker.request('finetune:add', { pixels, label });
    setClasses((cs) => cs.map((c, i) => (i === label ? { ...c, images: [...c.images, ...images] } : c)));
    setTraining(null);
  };
  const addFiles = async (label: number, files: FileList | null) => {
    if (files === null || files.length === 0) return;
    const { images, rejected } = await readImages(files);
    setMessage(rejected.length > 0 ? `Not added — not images: ${rejected.join(', ')}. Add PNG, JPEG, GIF or WebP pictures.` : null);
    await add(label, images);
  };
  const snapshot = async (label: number) => {
    const v = video.current;
    if (v === null || v.videoWidth === 0) return;
    await add(label, [toPixels(v, v.videoWidth, v.videoHeight)]);
  };
  const startCamera = async () => {
    try {
      setCamera(await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } }));
    } catch (error) {
      setMessage(`The camera is not available (${(error as Error).message}); add picture files instead.`);
    }
  };
  const train = async () => {
    if (worker === null) return;
    setBusy(true);
    setMessage(null);
    try {
      setTraining(await worker.request('finetune:train', { classes: classes.length }));
    } catch (error) {
      setMessage((error as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const clear = async () => {
    await worker?.request('finetune:clear');
    setClasses((cs) => cs.map((c) => ({ ...c, images: [] })));
    setTraining(null);
    setProbs(null);
    setTested(null);
  };
  const test = async (files: FileList | null) => {
    if (worker === null || files === null || files.length === 0) return;
    const { images, rejected } = await readImages([files[0]]);
    if (rejected.length > 0) {
      setMessage(`Not an image: ${rejected[0]}. Choose a PNG, JPEG, GIF or WebP picture.`);
      return;
    }
    setMessage(null);
    setTested(images[0]);
    try {
      setProbs(await worker.request<number[]>('finetune:classify', { pixels: images[0] }));
    } catch (error) {
      setMessage((error as Error).message);
    }
  };

  const enough = classes.every((c) => c.images.length > 0);
  return (
    <section aria-labelledby="finetune-title">
      <h1 id="finetune-title">Fine-tune a pretrained network</h1>
      <EngineBar state={state} />
      <p id="finetune-backbone" data-ready={backbone !== null}>
        {backbone === null
          ? 'Loading MobileNetV2 (2.6 MB of ImageNet-trained weights, served with this page)…'
          : `MobileNetV2 loaded: ${backbone.parameters.toLocaleString()} frozen parameters up to '${backbone.cut}'. A new head — global average pooling and one dense layer — learns your classes from the features it computes once per picture (${SIDE}×${SIDE}).`}
      </p>
      {message !== null && <p class="error" role="alert" id="finetune-message">{message}</p>}
      <div class="panels">
        {classes.map((c, label) => (
          <div class="panel" key={label} data-class={label} data-count={c.images.length}>
            <label class="field">
              <span>name of class {label + 1}</span>
              <input type="text" value={c.name} onInput={(e) => setClasses(classes.map((k, i) => (i === label ? { ...k, name: (e.target as HTMLInputElement).value } : k)))} />
            </label>
            <label class="field">
              <span>add pictures ({c.images.length} so far)</span>
              <input type="file" accept="image/*" multiple id={`finetune-files-${label}`} disabled={backbone === null}
                onChange={(e) => { void addFiles(label, (e.target as HTMLInputElement).files); (e.target as HTMLInputElement).value = ''; }} />
            </label>
            {camera !== null && <button type="button" onClick={() => snapshot(label)}>Webcam snapshot</button>}
            <div class="grid">{c.images.slice(-12).map((img, i) => <PixelImage key={i} pixels={img} h={SIDE} w={SIDE} channels={3} size={40} label={`${c.name} picture`} />)}</div>
          </div>
        ))}
      </div>
      <div class="buttons">
        <button type="button" disabled={classes.length >= MAX_CLASSES} onClick={() => setClasses([...classes, { name: `class ${classes.length + 1}`, images: [] }])}>Add a class</button>
        {camera === null ? <button type="button" onClick={startCamera}>Use the webcam</button> : <button type="button" onClick={() => setCamera(null)}>Stop the webcam</button>}
        <button type="button" id="finetune-train" disabled={backbone === null || busy || !enough} onClick={train}>{busy ? 'Training…' : 'Train'}</button>
        <button type="button" onClick={clear}>Remove all pictures</button>
      </div>
      {!enough && <p>Add pictures to every class (a few each), then train.</p>}
      {camera !== null && <video ref={video} autoplay muted playsInline class="webcam" aria-label="webcam" />}
      {training !== null && (
        <div class="panels">
          <div class="panel" id="finetune-result" data-accuracy={training.accuracy}>
            <h2>Training</h2>
            <p>60 epochs in {training.seconds.toFixed(1)} s; accuracy on your pictures {(training.accuracy * 100).toFixed(0)}%.</p>
            <LineChart title="loss per epoch" xLabel="epoch" yLabel="cross-entropy" logY series={[{ label: 'loss', color: COLORS[0] }]}
              data={[training.losses.map((_, i) => i + 1), training.losses]} height={180} />
          </div>
          <div class="panel">
            <h2>Try it</h2>
            <label class="field">
              <span>a picture to classify</span>
              <input type="file" accept="image/*" id="finetune-test" onChange={(e) => void test((e.target as HTMLInputElement).files)} />
            </label>
            {tested !== null && <PixelImage pixels={tested} h={SIDE} w={SIDE} channels={3} size={96} label="the picture classified" />}
            <Probabilities probs={probs} classNames={classes.map((c) => c.name)} label="class probabilities" />
          </div>
        </div>
      )}
    </section>
  );
}
