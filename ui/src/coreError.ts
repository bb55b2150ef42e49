import type { UserError, UserErrorCode } from "./core";

/**
 * A command the core refused (core.ts throws it for a `Result`'s error): the
 * core's stable code to branch on and its sentence for the person, already
 * in plain words.
 */
export class CoreUserError extends Error {
  readonly code: UserErrorCode;

  constructor({ code, message }: UserError) {
    super(message);
    this.name = "CoreUserError";
    this.code = code;
  }
}

/**
 * Plain words for a failed call to the core. Tauri rejects with whatever the
 * Rust side serialised (usually a string); a broken bridge throws an Error.
 */
export function describeCoreError(error: unknown): string {
  if (typeof error === "string" && error.trim() !== "") return error;
  if (error instanceof Error && error.message !== "") return error.message;
  if (typeof error === "object" && error !== null && "message" in error) {
    const { message } = error;
    if (typeof message === "string" && message !== "") return message;
  }
  return "Something went wrong inside Convene.";
}
