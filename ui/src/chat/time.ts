// Times as a chat list and a thread show them, in the person's locale.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** Whole calendar days between two moments (local time). */
function daysBetween(earlier: Date, later: Date): number {
  return Math.round((startOfDay(later) - startOfDay(earlier)) / DAY);
}

/** "14:05" (or "2:05 PM", as the locale writes it). */
export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

/** The chat list's short time: "Now", "5m", a clock time today, "Yesterday", a weekday, a date. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  const ago = now.getTime() - date.getTime();
  if (ago < MINUTE) return "Now";
  if (ago < 60 * MINUTE) return `${Math.floor(ago / MINUTE)}m`;
  const days = daysBetween(date, now);
  if (days <= 0) return clockTime(iso);
  if (days === 1) return "Yesterday";
  if (days < 7) return date.toLocaleDateString(undefined, { weekday: "short" });
  return date.toLocaleDateString(undefined, { day: "numeric", month: "numeric", year: "2-digit" });
}

/** The label of a day separator: "Today", "Yesterday", or the full date. */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  const days = daysBetween(date, now);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return date.toLocaleDateString(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: date.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
}

/** A key for the local calendar day of a moment. */
export function dayKey(iso: string): string {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

/** Full date and time, for a tooltip or a screen reader. */
export function fullTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}
