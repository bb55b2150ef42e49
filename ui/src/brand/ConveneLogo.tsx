import conveneIconUrl from "../../../icons/convene.svg";

/** Convene's own icon, bundled with the UI (no remote images). */
export function ConveneLogo({ size, decorative = false }: { size: number; decorative?: boolean }) {
  return (
    <img
      src={conveneIconUrl}
      width={size}
      height={size}
      alt={decorative ? "" : "Convene"}
      draggable={false}
    />
  );
}
