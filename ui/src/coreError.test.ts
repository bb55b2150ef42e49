import { describe, expect, it } from "vitest";
import { describeCoreError } from "./coreError";

describe("describeCoreError", () => {
  it("uses the core's own words", () => {
    expect(describeCoreError("server settings are missing")).toBe("server settings are missing");
    expect(describeCoreError(new Error("IPC closed"))).toBe("IPC closed");
    expect(describeCoreError({ message: "timed out" })).toBe("timed out");
  });

  it("falls back to a plain sentence", () => {
    expect(describeCoreError(undefined)).toBe("Something went wrong inside Convene.");
    expect(describeCoreError("")).toBe("Something went wrong inside Convene.");
  });
});
