import { describe, expect, it } from "vitest";
import { dayLabel, relativeTime } from "./time";

const now = new Date(2026, 2, 10, 15, 0); // local time: 10 March 2026, 15:00

describe("relativeTime", () => {
  it("says Now, minutes, a clock time, Yesterday, then a weekday or a date", () => {
    const at = (ms: number) => new Date(now.getTime() - ms).toISOString();
    expect(relativeTime(at(20_000), now)).toBe("Now");
    expect(relativeTime(at(5 * 60_000), now)).toBe("5m");
    expect(relativeTime(at(3 * 3_600_000), now)).toMatch(/12/);
    expect(relativeTime(new Date(2026, 2, 9, 9, 0).toISOString(), now)).toBe("Yesterday");
    expect(relativeTime(new Date(2026, 1, 1, 9, 0).toISOString(), now)).toMatch(/\d/);
  });
});

describe("dayLabel", () => {
  it("names today and yesterday", () => {
    expect(dayLabel(new Date(2026, 2, 10, 1, 0).toISOString(), now)).toBe("Today");
    expect(dayLabel(new Date(2026, 2, 9, 23, 0).toISOString(), now)).toBe("Yesterday");
    expect(dayLabel(new Date(2026, 2, 2, 12, 0).toISOString(), now)).toMatch(/March/);
  });
});
