import { useCallback, useEffect, useState } from "react";
import { checkConnectionNow, getConnectionStatus, onConnectionChange, type ConnectionStatus } from "../core";
import { describeCoreError } from "../coreError";

export interface ConnectionView {
  /** Null until the core has told us anything. */
  status: ConnectionStatus | null;
  /** Set when asking the core itself failed (not when the server is unreachable). */
  problem: string | null;
  /** True while a "Try again" request is on its way to the core. */
  checking: boolean;
  checkNow: () => void;
}

/**
 * The server's reachability, live: one read at start, then every change the
 * core pushes. A pushed status is newer than the initial read, so a read that
 * answers after an event is ignored.
 */
export function useConnectionStatus(): ConnectionView {
  const [status, setStatus] = useState<ConnectionStatus | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  useEffect(() => {
    let mounted = true;
    let pushed = false;

    const unsubscribe = onConnectionChange((next) => {
      if (!mounted) return;
      pushed = true;
      setStatus(next);
      setProblem(null);
    });

    getConnectionStatus().then(
      (first) => {
        if (mounted && !pushed) setStatus(first);
      },
      (error: unknown) => {
        if (mounted && !pushed) setProblem(describeCoreError(error));
      },
    );

    return () => {
      mounted = false;
      unsubscribe();
    };
  }, []);

  const checkNow = useCallback(() => {
    setChecking(true);
    setProblem(null);
    void checkConnectionNow()
      .catch((error: unknown) => setProblem(describeCoreError(error)))
      .finally(() => setChecking(false));
  }, []);

  return { status, problem, checking, checkNow };
}
