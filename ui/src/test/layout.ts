// jsdom does no layout: every element has offsetParent === null and a zero
// body rect, which tabster (Fluent's keyboard navigation) reads as "hidden"
// and then refuses to move focus. Emulate a laid-out, visible page instead;
// elements under display:none still count as hidden.

function emulatedOffsetParent(element: HTMLElement): Element | null {
  if (element === document.body) return null;
  for (let ancestor: HTMLElement | null = element; ancestor !== null; ancestor = ancestor.parentElement) {
    if (window.getComputedStyle(ancestor).display === "none") return null;
  }
  return element.parentElement;
}

export function installLayoutEmulation(): void {
  Object.defineProperty(HTMLElement.prototype, "offsetParent", {
    configurable: true,
    get(this: HTMLElement): Element | null {
      return emulatedOffsetParent(this);
    },
  });

  HTMLBodyElement.prototype.getBoundingClientRect = function getBoundingClientRect() {
    return DOMRect.fromRect({ x: 0, y: 0, width: 1100, height: 720 });
  };
}

/** The chat thread's height: its virtualiser renders the rows that fit in it (none at 0 px). */
export const THREAD_VIEWPORT_PX = 600;

/** Give scroll containers that virtualise a viewport, as a laid-out window would. */
export function installViewportEmulation(): void {
  const clientHeight = Object.getOwnPropertyDescriptor(Element.prototype, "clientHeight");
  Object.defineProperty(HTMLElement.prototype, "clientHeight", {
    configurable: true,
    get(this: HTMLElement): number {
      if (this.dataset.testid === "thread") return THREAD_VIEWPORT_PX;
      return (clientHeight?.get?.call(this) as number | undefined) ?? 0;
    },
  });
}

/** Fluent's MessageBar measures itself for reflow; jsdom has no ResizeObserver. */
export function installResizeObserver(): void {
  if (typeof window.ResizeObserver === "function") return;
  window.ResizeObserver = class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  };
}
