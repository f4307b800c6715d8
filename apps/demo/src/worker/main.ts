// The demo's worker: the core and every training run live here, never on the page's thread.
// Requests come as { type, id?, … }; a request with an id gets one reply (or an error) back.
import type { Build } from '@minibatch/core';
import { augmentPreview } from './augment.js';
import { initExperiment, startWatching, stopWatching, type WatchOptions } from './babysit.js';
import { startEngine } from './engine.js';
import { addExample, classify, clearExamples, prepareFinetune, trainHead } from './finetune.js';
import { startNetworkRace, stopRace, surfaceGrid, surfacePaths, type Racer } from './race.js';
import { pauseTraining, predictImage, resumeTraining, startTraining, stopTraining } from './train.js';

type Message = { type: string; id?: number } & Record<string, unknown>;

const post = (message: Record<string, unknown>, transfer: Transferable[] = []) => self.postMessage(message, { transfer });

/** Each request's handler; what it returns (or resolves to) is the reply. */
const handlers: Record<string, (m: Message) => unknown> = {
  init: (m) => startEngine({ base: m.base as string, threads: m.threads as number | undefined, build: m.build as Build | undefined }),
  'train:start': (m) => startTraining(m.config as Record<string, unknown>, post),
  'train:pause': () => pauseTraining(),
  'train:resume': () => resumeTraining(),
  'train:reset': () => stopTraining(),
  'train:predict': (m) => predictImage(m.pixels as Float32Array),
  'race:network': (m) => startNetworkRace(m.options as { lrs: Record<Racer, number>; steps: number }, post),
  'race:stop': () => stopRace(),
  'race:surface': (m) => ({ grid: surfaceGrid(m.surface as string, 160), paths: surfacePaths(m.surface as string, m.options as { lrs: Record<Racer, number>; steps: number }) }),
  'babysit:start': (m) => startWatching(m.options as WatchOptions, post),
  'babysit:stop': () => stopWatching(),
  'babysit:init': (m) => initExperiment(m.options as { activation: 'relu' | 'tanh'; init: WatchOptions['init'] }),
  'augment:preview': (m) => augmentPreview(m.options as { dataset: string; specs: unknown[]; count: number; seed: number }),
  'finetune:prepare': () => prepareFinetune(),
  'finetune:add': (m) => addExample(m.pixels as Float32Array, m.label as number),
  'finetune:clear': () => clearExamples(),
  'finetune:train': (m) => trainHead(m.classes as number),
  'finetune:classify': (m) => classify(m.pixels as Float32Array),
};

self.onmessage = async (event: MessageEvent<Message>) => {
  const { type, id } = event.data;
  try {
    const handler = handlers[type];
    if (handler === undefined) throw new Error(`the worker has no request '${type}'`);
    const value = await handler(event.data);
    if (id !== undefined) post({ type: 'reply', id, value: value ?? null });
  } catch (error) {
    post({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
  }
};
