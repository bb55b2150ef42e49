// What the virtualised thread shows, row by row: day separators between
// days, and messages marked as continuing the previous sender's group.
import type { ReadMark, ThreadMessage } from "../core";
import { dayKey } from "./time";

/** Messages from one sender this close together share one name and avatar. */
export const GROUP_GAP_MS = 5 * 60_000;

export type ThreadRow =
  | { kind: "day"; key: string; at: string }
  | {
      kind: "message";
      key: string;
      message: ThreadMessage;
      /** Continues the group above: no name or avatar. */
      continued: boolean;
      /** The last message I wrote, and someone has read it. */
      seen: boolean;
    };

/** The key of my last sent message if another member has read up to it, else null. */
export function seenKey(messages: readonly ThreadMessage[], readBy: readonly ReadMark[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (!message.mine || message.delivery.state !== "sent" || message.deleted) continue;
    const at = Date.parse(message.createdAt);
    return readBy.some((mark) => Date.parse(mark.lastReadAt) >= at) ? message.key : null;
  }
  return null;
}

export function threadRows(messages: readonly ThreadMessage[], readBy: readonly ReadMark[]): ThreadRow[] {
  const seen = seenKey(messages, readBy);
  const rows: ThreadRow[] = [];
  let previous: ThreadMessage | undefined;
  for (const message of messages) {
    const day = dayKey(message.createdAt);
    const newDay = previous === undefined || dayKey(previous.createdAt) !== day;
    if (newDay) rows.push({ kind: "day", key: `day-${day}`, at: message.createdAt });
    const continued =
      !newDay &&
      previous !== undefined &&
      previous.from.id === message.from.id &&
      !previous.deleted &&
      Date.parse(message.createdAt) - Date.parse(previous.createdAt) < GROUP_GAP_MS;
    rows.push({ kind: "message", key: message.key, message, continued, seen: message.key === seen });
    previous = message;
  }
  return rows;
}
