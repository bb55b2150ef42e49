import { describe, expect, it } from "vitest";
import { bob, carol, message } from "../test/chatFixtures";
import { threadRows } from "./threadRows";

const at = (time: string) => `2026-03-02T${time}Z`;

function shape(rows: ReturnType<typeof threadRows>) {
  return rows.flatMap((row) => [
    ...(row.startsDay ? ["day"] : []),
    `${row.message.from.displayName}${row.continued ? " +" : ""}`,
  ]);
}

describe("threadRows", () => {
  it("groups consecutive messages from one sender within a few minutes", () => {
    const rows = threadRows(
      [
        message({ from: bob, createdAt: at("09:00:00") }),
        message({ from: bob, createdAt: at("09:01:00") }),
        message({ from: carol, createdAt: at("09:02:00") }),
        message({ from: carol, createdAt: at("09:30:00") }),
      ],
      [],
    );
    expect(shape(rows)).toEqual(["day", "Bob Smith", "Bob Smith +", "Carol Jones", "Carol Jones"]);
  });

  it("puts a separator between days, which also starts a new group", () => {
    const rows = threadRows(
      [
        message({ from: bob, createdAt: "2026-03-01T12:00:00Z" }),
        message({ from: bob, createdAt: "2026-03-02T12:00:00Z" }),
      ],
      [],
    );
    expect(shape(rows)).toEqual(["day", "Bob Smith", "day", "Bob Smith"]);
  });

  it("marks my last sent message Seen once someone has read up to it", () => {
    const mine = message({ mine: true, createdAt: at("09:05:00") });
    const messages = [message({ createdAt: at("09:00:00") }), mine];
    const seen = (readAt: string) =>
      threadRows(messages, [{ userId: bob.id, lastReadAt: readAt }]).filter((r) => r.seen);
    expect(seen(at("09:04:00"))).toHaveLength(0);
    expect(seen(at("09:05:00")).map((r) => r.key)).toEqual([mine.key]);
  });
});
