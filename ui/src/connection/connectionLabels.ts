import type { ConnectionState } from "../core";

/**
 * The indicator's states: the core's ConnectionState, plus "unknown" for when
 * the core itself could not be asked (no status has arrived and the read failed).
 */
export type IndicatorState = ConnectionState | "unknown";

/** What a person reads for each state of the server connection. */
export const connectionLabels: Record<IndicatorState, string> = {
  checking: "Checking…",
  reachable: "Connected",
  reconnecting: "Reconnecting…",
  unreachable: "Can't reach the server",
  unknown: "Status unknown",
};

export function indicatorState(state: ConnectionState | undefined, problem: string | null): IndicatorState {
  if (state !== undefined) return state;
  return problem === null ? "checking" : "unknown";
}
