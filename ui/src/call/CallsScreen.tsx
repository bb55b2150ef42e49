import { useCallback, useEffect, useState } from "react";
import {
  Body1,
  Button,
  Caption1,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  Skeleton,
  SkeletonItem,
  Text,
  Title3,
  Tooltip,
  makeStyles,
  mergeClasses,
  tokens,
} from "@fluentui/react-components";
import {
  CallInboundRegular,
  CallMissedRegular,
  CallOutboundRegular,
  CallRegular,
  HistoryRegular,
  VideoRegular,
} from "@fluentui/react-icons";
import { getCallHistory, type CallHistoryEntry } from "../core";
import { describeCoreError } from "../coreError";
import { fullTime, relativeTime } from "../chat/time";
import { formatDuration, hasVideo, historyKind, outcomeText, type HistoryKind } from "./callState";
import { MakeCall } from "./MakeCall";

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    height: "100%",
    boxSizing: "border-box",
    padding: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalXXL}`,
    gap: tokens.spacingVerticalM,
    overflow: "auto",
  },
  title: { margin: 0 },
  list: { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column" },
  row: {
    display: "grid",
    gridTemplateColumns: "24px minmax(0, 1fr) auto auto",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    borderBottom: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  icon: { fontSize: "20px", color: tokens.colorNeutralForeground3 },
  missed: { color: tokens.colorPaletteRedForeground1 },
  words: { display: "flex", flexDirection: "column", minWidth: 0 },
  name: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  meta: { color: tokens.colorNeutralForeground3 },
  time: { color: tokens.colorNeutralForeground3, whiteSpace: "nowrap" },
  empty: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    gap: tokens.spacingVerticalS,
    flexGrow: 1,
    color: tokens.colorNeutralForeground3,
    textAlign: "center",
  },
  emptyIcon: { fontSize: "48px", color: tokens.colorBrandForeground2 },
});

const kindIcon: Record<HistoryKind, typeof CallInboundRegular> = {
  incoming: CallInboundRegular,
  outgoing: CallOutboundRegular,
  missed: CallMissedRegular,
};
const kindWords: Record<HistoryKind, string> = { incoming: "Incoming", outgoing: "Outgoing", missed: "Missed" };

interface CallsScreenProps {
  /** Goes up when a call ends: the list is read again. */
  revision: number;
  /** A call is going on: no calling back meanwhile. */
  busy: boolean;
  onCall: (userId: string, video: boolean, name?: string) => void;
}

/** The Calls tab: a box to call someone by name, then placed and received calls, newest first, each with a call-back button. */
export function CallsScreen({ revision, busy, onCall }: CallsScreenProps) {
  const styles = useStyles();
  const [entries, setEntries] = useState<CallHistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let mounted = true;
    getCallHistory().then(
      (history) => {
        if (!mounted) return;
        setEntries(history);
        setError(null);
      },
      (failure: unknown) => mounted && setError(describeCoreError(failure)),
    );
    return () => {
      mounted = false;
    };
  }, [revision, attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  return (
    <section className={styles.root} aria-labelledby="calls-title" data-testid="calls-tab">
      <Title3 as="h1" id="calls-title" className={styles.title}>
        Calls
      </Title3>
      <MakeCall busy={busy} onCall={onCall} />
      {error !== null && (
        <MessageBar intent="error" layout="multiline" data-testid="call-history-error">
          <MessageBarBody>Could not load your calls: {error}</MessageBarBody>
          <MessageBarActions>
            <Button onClick={retry}>Try again</Button>
          </MessageBarActions>
        </MessageBar>
      )}
      {entries === null && error === null && (
        <Skeleton aria-label="Loading your calls" data-testid="call-history-skeleton">
          {[0, 1, 2].map((n) => (
            <SkeletonItem key={n} size={40} style={{ marginBottom: 8 }} />
          ))}
        </Skeleton>
      )}
      {entries !== null && entries.length === 0 && (
        <div className={styles.empty} data-testid="call-history-empty">
          <HistoryRegular className={styles.emptyIcon} aria-hidden />
          <Text size={400} weight="semibold">
            No calls yet
          </Text>
          <Body1>Type a name above to call someone, or use the call buttons at the top of a chat.</Body1>
        </div>
      )}
      {entries !== null && entries.length > 0 && (
        <ul className={styles.list} aria-label="Recent calls">
          {entries.map((entry) => (
            <HistoryRow key={entry.id} entry={entry} busy={busy} onCall={onCall} />
          ))}
        </ul>
      )}
    </section>
  );
}

function HistoryRow({ entry, busy, onCall }: { entry: CallHistoryEntry; busy: boolean; onCall: CallsScreenProps["onCall"] }) {
  const styles = useStyles();
  const kind = historyKind(entry);
  const Icon = kindIcon[kind];
  const video = hasVideo(entry.media);
  const name = entry.peer.name ?? "Unknown";
  const outcome = outcomeText(entry);
  const duration = entry.durationSecs > 0 ? formatDuration(entry.durationSecs * 1000) : null;
  const callBack = video ? `Video call ${name}` : `Call ${name}`;
  return (
    <li className={styles.row} data-testid="call-history-row" data-kind={kind} data-call-id={entry.id}>
      <Icon className={mergeClasses(styles.icon, kind === "missed" && styles.missed)} aria-label={kindWords[kind]} role="img" />
      <div className={styles.words}>
        <Text weight={kind === "missed" ? "semibold" : "regular"} className={mergeClasses(styles.name, kind === "missed" && styles.missed)}>
          {name}
        </Text>
        <Caption1 className={styles.meta}>
          {[kindWords[kind], video ? "video" : "audio", outcome, duration].filter((part) => part !== null).join(" · ")}
        </Caption1>
      </div>
      <Caption1 className={styles.time} title={fullTime(entry.startedAt)}>
        <time dateTime={entry.startedAt}>{relativeTime(entry.startedAt)}</time>
      </Caption1>
      <Tooltip content={callBack} relationship="label">
        <Button
          appearance="subtle"
          icon={video ? <VideoRegular /> : <CallRegular />}
          disabled={busy || entry.peer.userId === ""}
          onClick={() => onCall(entry.peer.userId, video, entry.peer.name ?? undefined)}
          data-testid="call-back"
        />
      </Tooltip>
    </li>
  );
}
