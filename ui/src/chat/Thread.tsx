import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { measureElement, useVirtualizer } from "@tanstack/react-virtual";
import {
  Button,
  Caption1,
  Divider,
  Skeleton,
  SkeletonItem,
  Spinner,
  Text,
  makeStyles,
  tokens,
  useArrowNavigationGroup,
} from "@fluentui/react-components";
import type { ReadMark } from "../core";
import type { ThreadState } from "./chatState";
import { MessageRow, messagePreview, type MessageHandlers } from "./MessageRow";
import { threadRows, type ThreadRow } from "./threadRows";
import { dayLabel } from "./time";

/** Ask for older messages when the top is this close (px). */
const LOAD_OLDER_WITHIN = 400;

const useStyles = makeStyles({
  root: { position: "relative", flexGrow: 1, minHeight: 0, display: "flex", flexDirection: "column" },
  scroller: {
    flexGrow: 1,
    minHeight: 0,
    overflowY: "auto",
    overflowAnchor: "none",
    outlineStyle: "none",
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-2px" },
  },
  canvas: { position: "relative", width: "100%" },
  item: { position: "absolute", top: 0, left: 0, width: "100%" },
  day: { padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXXL}` },
  older: {
    position: "absolute",
    top: tokens.spacingVerticalS,
    left: "50%",
    transform: "translateX(-50%)",
    zIndex: 2,
  },
  centre: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    gap: tokens.spacingVerticalS,
    flexGrow: 1,
    height: "100%",
    color: tokens.colorNeutralForeground3,
    textAlign: "center",
  },
  start: { textAlign: "center", color: tokens.colorNeutralForeground3, padding: tokens.spacingVerticalM },
  skeleton: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalL, padding: tokens.spacingHorizontalXXL },
  visuallyHidden: {
    position: "absolute",
    width: "1px",
    height: "1px",
    overflow: "hidden",
    clip: "rect(0 0 0 0)",
    whiteSpace: "nowrap",
  },
});

interface ThreadProps {
  thread: ThreadState;
  readBy: ReadMark[];
  handlers: MessageHandlers;
  onLoadOlder: () => void;
  onRetryLoad: () => void;
  /** Changes when I send a message: the thread then jumps to the end. */
  sentRevision: number;
}

function estimateSize(row: ThreadRow | undefined): number {
  if (row === undefined) return 76;
  return (row.continued ? 40 : 76) + (row.startsDay ? 44 : 0);
}

/**
 * The messages of a chat, virtualised: only the rows near the viewport are in
 * the DOM, each measured as it renders. It opens at the newest message, follows
 * new ones while at the end, and keeps the reading position when older pages
 * are added above.
 */
export function Thread({ thread, readBy, handlers, onLoadOlder, onRetryLoad, sentRevision }: ThreadProps) {
  const styles = useStyles();
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => threadRows(thread.messages, readBy), [thread.messages, readBy]);

  // The virtualizer is mutable by design; this project does not use the React Compiler.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimateSize(rows[index]),
    getItemKey: (index) => rows[index]?.key ?? index,
    // A row that measures 0 is not laid out (yet): keep its estimate rather than collapse it.
    measureElement: (element, entry, instance) => {
      const size = measureElement(element, entry, instance);
      return size > 0 ? size : estimateSize(rows[instance.indexFromElement(element)]);
    },
    overscan: 6,
    paddingStart: 8,
    paddingEnd: 8,
    // A chat reads from the end: keep the reading position when pages are
    // prepended, and follow new messages while at the end.
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: 48,
  });

  // Open at the newest message, once the first rows exist.
  const opened = useRef(false);
  useLayoutEffect(() => {
    if (opened.current || rows.length === 0) return;
    opened.current = true;
    virtualizer.scrollToEnd();
  }, [rows.length, virtualizer]);

  // Something I sent goes to the end even if I had scrolled up.
  useEffect(() => {
    if (sentRevision > 0) virtualizer.scrollToEnd();
  }, [sentRevision, virtualizer]);

  const { hasOlder, loadingOlder } = thread;
  // A first page too short to scroll can never be scrolled to the top: fill the view instead.
  const totalSize = virtualizer.getTotalSize();
  useEffect(() => {
    const height = scrollRef.current?.clientHeight ?? 0;
    if (hasOlder && !loadingOlder && height > 0 && totalSize < height) onLoadOlder();
  }, [hasOlder, loadingOlder, totalSize, onLoadOlder]);

  const onScroll = () => {
    const element = scrollRef.current;
    if (element !== null && element.scrollTop < LOAD_OLDER_WITHIN && hasOlder && !loadingOlder) onLoadOlder();
  };

  const announcement = useNewMessageAnnouncement(thread);
  const arrows = useArrowNavigationGroup({ axis: "vertical", memorizeCurrent: true });

  if (!thread.loaded && thread.messages.length === 0) {
    if (thread.error !== null) {
      return (
        <div className={styles.centre} data-testid="thread-error">
          <Text>{thread.error}</Text>
          <Button onClick={onRetryLoad}>Try again</Button>
        </div>
      );
    }
    return <ThreadSkeleton />;
  }

  const items = virtualizer.getVirtualItems();
  return (
    <div className={styles.root}>
      {loadingOlder && <Spinner className={styles.older} size="tiny" label="Loading older messages" />}
      <div
        ref={scrollRef}
        className={styles.scroller}
        role="region"
        aria-label="Messages"
        data-testid="thread"
        onScroll={onScroll}
      >
        {rows.length === 0 ? (
          <div className={styles.centre}>
            <Text>No messages yet. Say hello.</Text>
          </div>
        ) : (
          <div className={styles.canvas} style={{ height: virtualizer.getTotalSize() }} {...arrows}>
            {items.map((item) => {
              const row = rows[item.index];
              if (row === undefined) return null;
              return (
                <div
                  key={item.key}
                  ref={virtualizer.measureElement}
                  data-index={item.index}
                  className={styles.item}
                  style={{ transform: `translateY(${item.start}px)` }}
                >
                  {item.index === 0 && !hasOlder && (
                    <Caption1 className={styles.start} block>
                      This is the beginning of the conversation.
                    </Caption1>
                  )}
                  {row.startsDay && (
                    <Divider className={styles.day} role="separator" data-testid="day-separator">
                      {dayLabel(row.message.createdAt)}
                    </Divider>
                  )}
                  <MessageRow message={row.message} continued={row.continued} seen={row.seen} handlers={handlers} />
                </div>
              );
            })}
          </div>
        )}
      </div>
      <div className={styles.visuallyHidden} aria-live="polite" data-testid="new-message-announcement">
        {announcement}
      </div>
    </div>
  );
}

/** "Bob: hello" for the newest message from someone else, once it arrives after the thread opened. */
function useNewMessageAnnouncement(thread: ThreadState): string {
  const last = thread.messages.at(-1);
  const [openedWith] = useState(() => last?.key ?? null);
  if (last === undefined || last.mine || last.key === openedWith || !thread.loaded) return "";
  return `${last.from.displayName}: ${messagePreview(last)}`;
}

function ThreadSkeleton() {
  const styles = useStyles();
  return (
    <Skeleton className={styles.skeleton} aria-label="Loading messages" data-testid="thread-skeleton">
      {[0, 1, 2].map((i) => (
        <div key={i} style={{ display: "flex", gap: 8 }}>
          <SkeletonItem shape="circle" size={32} />
          <div style={{ flexGrow: 1 }}>
            <SkeletonItem size={12} style={{ width: "30%" }} />
            <SkeletonItem size={40} style={{ width: "60%", marginTop: 6 }} />
          </div>
        </div>
      ))}
    </Skeleton>
  );
}
