// Work in slices: a loop that runs steps for about `sliceMs`, then yields so the worker can
// take the page's messages (pause, predict, reset) — training never makes the page wait.

export class SliceLoop {
  #running = false;
  #scheduled = false;
  readonly #channel = new MessageChannel();

  /**
   * `step` runs one unit of work and returns false when there is no more; `after` runs after
   * each slice; `failed` gets what a step threw (the loop stops).
   */
  constructor(
    private readonly step: () => boolean,
    private readonly after: () => void,
    private readonly failed: (error: unknown) => void,
    private readonly sliceMs = 50,
  ) {
    this.#channel.port1.onmessage = () => this.#slice();
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#channel.port2.postMessage(null);
  }

  #slice(): void {
    this.#scheduled = false;
    if (!this.#running) return;
    const t0 = performance.now();
    try {
      while (this.#running && performance.now() - t0 < this.sliceMs) {
        if (!this.step()) {
          this.#running = false;
          break;
        }
      }
      this.after();
    } catch (error) {
      this.#running = false;
      this.failed(error);
    }
    if (this.#running) this.#schedule();
  }
}
