// The composer edits plain text with light markup (**bold**, _italic_,
// `code`, "- " list lines, @Name mentions) — a textarea is predictable for
// the keyboard, screen readers and IME — and turns it into the HTML the core
// expects on send. The core sanitises that HTML again.
import type { Draft, Person, ThreadMessage } from "../core";

export interface ComposerDraft {
  text: string;
  /** People picked from the @ suggestions; kept if their "@Name" is still in the text. */
  mentions: Person[];
  replyTo: ThreadMessage | null;
}

export const emptyDraft: ComposerDraft = { text: "", mentions: [], replyTo: null };

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// Private-use characters stand in for mentions while the markup is converted.
const OPEN = "\uE000";
const CLOSE = "\uE001";

function formatInline(escaped: string): string {
  return escaped
    .split(/(`[^`\n]+`)/)
    .map((part) => {
      if (part.length > 2 && part.startsWith("`") && part.endsWith("`")) return `<code>${part.slice(1, -1)}</code>`;
      return part
        .replace(/\*\*(?=\S)(.+?)\*\*/g, "<b>$1</b>")
        .replace(/(^|[^\p{L}\p{N}_])_(?=\S)(.+?)_(?![\p{L}\p{N}_])/gu, "$1<i>$2</i>");
    })
    .join("");
}

const LIST_LINE = /^\s*[-*•]\s+(.*)$/;

function formatBlocks(escaped: string): string {
  const out: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (list.length > 0) out.push(`<ul>${list.map((item) => `<li>${item}</li>`).join("")}</ul>`);
    list = [];
  };
  const lines = escaped.split("\n");
  lines.forEach((line, i) => {
    const item = LIST_LINE.exec(line);
    if (item !== null) {
      list.push(formatInline(item[1] ?? ""));
      return;
    }
    flush();
    out.push(formatInline(line) + (i < lines.length - 1 && !LIST_LINE.test(lines[i + 1] ?? "") ? "<br>" : ""));
  });
  flush();
  return out.join("");
}

/**
 * The HTML and mention list for composer text. Each "@Name" of a picked
 * person becomes `<at id="N">Name</at>`, N counting occurrences in order
 * (as Graph's mentions do).
 */
export function composeHtml(text: string, people: readonly Person[]): { html: string; mentions: Person[] } {
  const found: { at: number; person: Person }[] = [];
  // Longest names first, so "@Bob Smith" wins over "@Bob".
  const byLength = [...people].sort((a, b) => b.displayName.length - a.displayName.length);
  const taken = new Array<boolean>(text.length).fill(false);
  for (const person of byLength) {
    const needle = `@${person.displayName}`;
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
      if (taken.slice(at, at + needle.length).some(Boolean)) continue;
      taken.fill(true, at, at + needle.length);
      found.push({ at, person });
    }
  }
  found.sort((a, b) => a.at - b.at);

  let marked = "";
  let cursor = 0;
  found.forEach(({ at, person }, n) => {
    marked += text.slice(cursor, at) + `${OPEN}${n}${CLOSE}`;
    cursor = at + person.displayName.length + 1;
  });
  marked += text.slice(cursor);

  const html = formatBlocks(escapeHtml(marked.trim())).replace(
    new RegExp(`${OPEN}(\\d+)${CLOSE}`, "g"),
    (_, n: string) => `<at id="${n}">${escapeHtml(found[Number(n)]?.person.displayName ?? "")}</at>`,
  );
  return { html, mentions: found.map((f) => f.person) };
}

/** What sendMessage takes for a composer draft. */
export function toDraft(draft: ComposerDraft): Draft {
  const { html, mentions } = composeHtml(draft.text, draft.mentions);
  return { html, mentions, replyTo: draft.replyTo?.id ?? null };
}

export function isBlank(draft: ComposerDraft): boolean {
  return draft.text.trim() === "";
}

function parse(html: string): Document {
  return new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
}

/** The words of a message body, for previews and announcements. */
export function plainText(html: string): string {
  const body = parse(html).body;
  for (const attachment of body.querySelectorAll("attachment")) attachment.remove();
  for (const emoji of body.querySelectorAll("emoji")) emoji.replaceWith(emoji.getAttribute("alt") ?? "");
  return (body.textContent ?? "").replace(/\s+/g, " ").trim();
}

/** A message body back as composer text (to edit it), with its mentions as people to keep. */
export function draftFromHtml(html: string): { text: string; mentions: Person[] } {
  const mentions: Person[] = [];
  const walk = (node: Node): string => {
    if (node.nodeType === Node.TEXT_NODE) return (node.textContent ?? "").replace(/\n/g, " ");
    if (!(node instanceof Element)) return "";
    const inner = () => [...node.childNodes].map(walk).join("");
    switch (node.tagName.toLowerCase()) {
      case "at": {
        const name = node.textContent ?? "";
        mentions.push({ id: `mention-${node.getAttribute("id") ?? mentions.length}`, displayName: name, userPrincipalName: null });
        return `@${name}`;
      }
      case "b":
      case "strong":
        return `**${inner()}**`;
      case "i":
      case "em":
        return `_${inner()}_`;
      case "code":
        return `\`${inner()}\``;
      case "br":
        return "\n";
      case "li":
        return `- ${inner()}\n`;
      case "p":
      case "div":
      case "ul":
      case "ol":
        return `${inner()}\n`;
      case "emoji":
        return node.getAttribute("alt") ?? "";
      case "attachment":
        return "";
      default:
        return inner();
    }
  };
  const text = [...parse(html).body.childNodes].map(walk).join("").replace(/\n+$/, "");
  return { text, mentions };
}

/** The @query being typed just before the caret, if any. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|\s)@([^@\n]{0,40})$/.exec(text.slice(0, caret));
  if (match === null) return null;
  const query = match[1] ?? "";
  return { start: caret - query.length - 1, query };
}

/** Members whose name (or a word of it) starts with the query. */
export function mentionCandidates(members: readonly Person[], query: string): Person[] {
  const q = query.toLowerCase();
  return members
    .filter((person) => {
      const name = person.displayName.toLowerCase();
      return name.startsWith(q) || name.split(/\s+/).some((word) => word.startsWith(q));
    })
    .slice(0, 8);
}
