// Training logs: one JSON object per line, written as a run goes (so a killed run can still be
// reported), read back tolerantly (a truncated last line or a foreign line is counted and
// named, the rest is used). Reports draw their figures from these records alone.
import type { Callbacks } from './fit.js';
import type { LrFindResult } from './lr.js';
import type { MonitorRecord } from './monitors.js';

export type LogRecord =
  | { kind: 'run'; source: string; config?: unknown; engine?: { build: string; threads: number }; time: string }
  | { kind: 'step'; step: number; epoch: number; loss: number }
  | { kind: 'epoch'; epoch: number; loss: number; seconds?: number; lr?: number; accuracy?: number; val_loss?: number; val_accuracy?: number; [metric: string]: number | string | undefined }
  | ({ kind: 'monitor' } & MonitorRecord)
  | { kind: 'final'; test_loss: number; test_accuracy: number }
  | ({ kind: 'lr-find' } & LrFindResult)
  | { kind: 'check'; name: string; status: 'PASS' | 'WARN' | 'FAIL'; figure: string; message: string };

export const LOG_KINDS = ['run', 'step', 'epoch', 'monitor', 'final', 'lr-find', 'check'] as const;

/**
 * Callbacks that turn a run into log records: one per step (its loss), per epoch, per watched
 * step (with `monitors`), and at the end nothing more — the caller adds 'final'.
 */
export function logCallbacks(write: (record: LogRecord) => void): Callbacks {
  let step = 0;
  return {
    onBatchEnd: (b) => write({ kind: 'step', step: step++, epoch: b.epoch, loss: b.loss }),
    onEpochEnd: (logs) => void write({ kind: 'epoch', ...logs }),
    onMonitor: (record) => write({ kind: 'monitor', ...record }),
  };
}

/** A record as one line: non-finite numbers (a diverged loss) as null, since JSON has no NaN. */
export function logLine(record: LogRecord): string {
  return `${JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`;
}

export interface ReadLog {
  records: LogRecord[];
  /** Lines that are not records of a minibatch log, by line number (1-based), with why. */
  skipped: { line: number; reason: string }[];
}

/** Parses a JSONL log; what cannot be read is listed in `skipped`, never thrown. */
export function readLog(text: string): ReadLog {
  const records: LogRecord[] = [];
  const skipped: ReadLog['skipped'] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped.push({ line: i + 1, reason: line.length > 40 ? 'not JSON (cut short?)' : `not JSON: ${line}` });
      return;
    }
    const kind = (value as { kind?: unknown } | null)?.kind;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !LOG_KINDS.includes(kind as never)) {
      skipped.push({ line: i + 1, reason: `not a minibatch log record (kind ${JSON.stringify(kind)})` });
      return;
    }
    records.push(value as LogRecord);
  });
  return { records, skipped };
}
