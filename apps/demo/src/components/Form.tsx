// Form fields with their limits: a number out of range is said inline, and the page does not
// start anything until every field is valid.
export interface NumberSpec {
  label: string;
  min: number;
  max: number;
  integer?: boolean;
  step?: number | 'any';
}

/** A limit as a person writes it: 1e-6, not 0.000001. */
const shown = (v: number): string => (v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v));

/** The value of a typed number, or the message that says what is wrong with it. */
export function checkNumber(spec: NumberSpec, text: string): { value: number } | { error: string } {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) return { error: `${spec.label}: type a number` };
  if (spec.integer && !Number.isInteger(value)) return { error: `${spec.label}: a whole number, please` };
  if (value < spec.min || value > spec.max) return { error: `${spec.label} must be between ${shown(spec.min)} and ${shown(spec.max)}; got ${value}` };
  return { value };
}

export function NumberField(props: { spec: NumberSpec; text: string; onInput: (text: string) => void; id: string }) {
  const checked = checkNumber(props.spec, props.text);
  const error = 'error' in checked ? checked.error : null;
  return (
    <label class="field" for={props.id}>
      <span>{props.spec.label}</span>
      <input
        id={props.id}
        type="text"
        inputMode="decimal"
        value={props.text}
        aria-invalid={error !== null}
        aria-describedby={error !== null ? `${props.id}-error` : undefined}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {error !== null && <span class="error" id={`${props.id}-error`} role="alert">{error}</span>}
    </label>
  );
}

export function Select<T extends string>(props: { label: string; value: T; options: readonly (readonly [T, string])[]; onChange: (v: T) => void; id: string }) {
  return (
    <label class="field" for={props.id}>
      <span>{props.label}</span>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as T)}>
        {props.options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}
