// What the page runs on — kernel build and threads — and what to do when the worker failed.
import type { WorkerState } from '../client.js';

const BUILDS: Record<string, string> = {
  'relaxed-simd': 'relaxed-SIMD kernels',
  simd: 'SIMD kernels',
  scalar: 'scalar kernels (this browser has no WebAssembly SIMD: slower)',
};

export function EngineBar(props: { state: WorkerState }) {
  const { engine, failure, restart } = props.state;
  if (failure !== null) {
    return (
      <div class="banner failure" role="alert">
        <strong>Stopped.</strong> {failure}{' '}
        <button type="button" onClick={restart}>Reset the worker</button>
      </div>
    );
  }
  if (engine === null) return <div class="banner" role="status">Starting the engine…</div>;
  return (
    <div class="banner" role="status" data-build={engine.build} data-threads={engine.threads}>
      Engine: {BUILDS[engine.build] ?? engine.build}, {engine.threads} {engine.threads === 1 ? 'thread' : 'threads'}
      {engine.isolated ? ' (cross-origin isolated: worker threads over shared memory)' : ' — the page is not cross-origin isolated, so the engine runs on one thread'}
    </div>
  );
}
