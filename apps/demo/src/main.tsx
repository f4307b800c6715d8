// The demo's shell: a navigation bar and one page per route (#/train, #/race, …). Each page
// owns a training worker for as long as it is shown.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AugmentPage } from './pages/Augment.js';
import { BabysitPage } from './pages/Babysit.js';
import { FinetunePage } from './pages/Finetune.js';
import { RacePage } from './pages/Race.js';
import { TrainPage } from './pages/Train.js';
import './style.css';

const ROUTES = [
  ['train', 'Live training', TrainPage],
  ['race', 'Optimizer race', RacePage],
  ['babysit', 'Babysitting', BabysitPage],
  ['augment', 'Augmentation', AugmentPage],
  ['finetune', 'Fine-tune', FinetunePage],
] as const;

type Route = (typeof ROUTES)[number][0];

function routeOf(hash: string): Route {
  const name = hash.replace(/^#\/?/, '');
  return (ROUTES.find(([r]) => r === name)?.[0] ?? 'train') as Route;
}

function App() {
  const [route, setRoute] = useState<Route>(routeOf(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const Page = ROUTES.find(([r]) => r === route)![2];
  return (
    <>
      <header>
        <a class="brand" href="#/train">minibatch</a>
        <nav aria-label="demo pages">
          {ROUTES.map(([r, title]) => (
            <a key={r} href={`#/${r}`} aria-current={r === route ? 'page' : undefined}>{title}</a>
          ))}
        </nav>
      </header>
      <main>
        <Page key={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the 'Loading…' line of index.html
render(<App />, root);
