import { Tooltip, makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import type { CallQuality, QualityRating } from "../core";

const useStyles = makeStyles({
  root: {
    display: "inline-flex",
    alignItems: "flex-end",
    gap: "2px",
    height: "16px",
    padding: "2px",
    borderRadius: tokens.borderRadiusSmall,
    outlineStyle: "none",
    ":focus-visible": { outline: `${tokens.strokeWidthThick} solid ${tokens.colorStrokeFocus2}` },
  },
  bar: { width: "4px", borderRadius: "1px", backgroundColor: tokens.colorNeutralStroke1 },
  good: { backgroundColor: tokens.colorPaletteGreenForeground1 },
  fair: { backgroundColor: tokens.colorPaletteYellowForeground1 },
  poor: { backgroundColor: tokens.colorPaletteRedForeground1 },
});

const barsLit: Record<QualityRating, number> = { good: 3, fair: 2, poor: 1 };
const ratingWords: Record<QualityRating, string> = { good: "Good", fair: "Fair", poor: "Poor" };

/** The numbers behind the bars, in one line each. */
export function qualityDetails(quality: CallQuality): string[] {
  const ms = (value: number | null) => (value === null ? "unknown" : `${Math.round(value)} ms`);
  return [
    `Round trip: ${ms(quality.rttMs)}`,
    `Packet loss: ${quality.lossPercent.toFixed(1)} %`,
    `Jitter: ${ms(quality.jitterMs)}`,
    `Sending: ${Math.round(quality.sendKbps)} kbps (target ${Math.round(quality.targetKbps)})`,
    `Receiving: ${Math.round(quality.receiveKbps)} kbps`,
    quality.relayed ? "Through a relay server" : "Direct connection",
  ];
}

/** Three bars for the call's quality; the numbers in a tooltip. */
export function CallQualityIndicator({ quality }: { quality: CallQuality | null }) {
  const styles = useStyles();
  const rating = quality?.rating ?? null;
  const lit = rating === null ? 0 : barsLit[rating];
  const label = rating === null ? "Call quality: measuring" : `Call quality: ${ratingWords[rating]}`;
  const details = quality === null ? "Measuring…" : qualityDetails(quality).join("\n");
  return (
    <Tooltip
      content={<span style={{ whiteSpace: "pre-line" }}>{details}</span>}
      relationship="description"
      withArrow
    >
      <span
        className={styles.root}
        role="img"
        aria-label={label}
        tabIndex={0}
        data-testid="call-quality"
        data-rating={rating ?? "unknown"}
      >
        {[1, 2, 3].map((n) => (
          <span
            key={n}
            className={mergeClasses(styles.bar, n <= lit && rating !== null && styles[rating])}
            style={{ height: `${4 + n * 4}px` }}
          />
        ))}
      </span>
    </Tooltip>
  );
}
