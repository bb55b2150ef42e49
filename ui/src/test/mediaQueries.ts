// A controllable window.matchMedia for jsdom (which has none): tests set what
// the "OS" asks for and listeners hear about changes, as in a real webview.

type Listener = (event: MediaQueryListEvent) => void;

const matching = new Set<string>();
const listeners = new Map<string, Set<Listener>>();

function mediaQueryList(query: string): MediaQueryList {
  const forQuery = () => {
    let set = listeners.get(query);
    if (set === undefined) {
      set = new Set();
      listeners.set(query, set);
    }
    return set;
  };
  return {
    media: query,
    get matches() {
      return matching.has(query);
    },
    onchange: null,
    addEventListener: (_type: string, listener: Listener) => forQuery().add(listener),
    removeEventListener: (_type: string, listener: Listener) => forQuery().delete(listener),
    addListener: (listener: Listener) => forQuery().add(listener),
    removeListener: (listener: Listener) => forQuery().delete(listener),
    dispatchEvent: () => true,
  } as unknown as MediaQueryList;
}

export function installMatchMedia(): void {
  window.matchMedia = (query: string) => mediaQueryList(query);
}

/** Make `query` match (or stop matching) and tell whoever listens. */
export function setMediaQuery(query: string, matches: boolean): void {
  if (matches) matching.add(query);
  else matching.delete(query);
  const event = { matches, media: query } as MediaQueryListEvent;
  for (const listener of listeners.get(query) ?? []) listener(event);
}

export function resetMediaQueries(): void {
  matching.clear();
  listeners.clear();
}
