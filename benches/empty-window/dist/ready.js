// Same signal as Convene's UI: two animation frames after the first render.
requestAnimationFrame(() =>
  requestAnimationFrame(() => window.__TAURI_INTERNALS__.invoke("ready")),
);
