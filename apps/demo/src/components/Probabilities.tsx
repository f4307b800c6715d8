// Class probabilities as labelled bars with their percentages (readable without colour).
export function Probabilities(props: { probs: number[] | null; classNames: string[]; label: string }) {
  const { probs } = props;
  const best = probs === null ? -1 : probs.indexOf(Math.max(...probs));
  return (
    <ol class="probs" aria-label={props.label}>
      {props.classNames.map((name, c) => (
        <li key={c} class={c === best ? 'best' : ''} data-class={c}>
          <span class="name">{name}</span>
          <meter min={0} max={1} value={probs?.[c] ?? 0} />
          <span class="value">{probs === null ? '–' : `${(probs[c] * 100).toFixed(1)}%`}{c === best ? ' ◀' : ''}</span>
        </li>
      ))}
    </ol>
  );
}
