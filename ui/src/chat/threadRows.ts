// What the virtualised thread shows, one row per message: whether a day
// separator goes above it, and whether it continues the previous sender's
// group. Separators live inside the rows (not as rows of their own) so every
// row's key is a message key, which the virtualiser uses to keep the reading
// position when older pages are added above.
import type { ReadMark, ThreadMessage } from "../core";
import { dayKey } from "./time";

/** Messages from one sender this close together share one name and avatar. */
export const GROUP_GAP_MS = 5 * 60_000;

export interface ThreadRow {
  key: string;
  message: ThreadMessage;
  /** The first message of a day: a separator with this day goes above it. */
  startsDay: boolean;
  /** Continues the group above: no name or avatar. */
  continued: boolean;
  /** The last message I wrote, and someone has read it. */
  seen: boolean;
}

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
    const continued =
      !newDay &&
      previous !== undefined &&
      previous.from.id === message.from.id &&
      !previous.deleted &&
      Date.parse(message.createdAt) - Date.parse(previous.createdAt) < GROUP_GAP_MS;
    rows.push({ key: message.key, message, startsDay: newDay, continued, seen: message.key === seen });
    previous = message;
  }
  return rows;
}
