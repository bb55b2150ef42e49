import { useCallback, useEffect, useState } from "react";
import { getAppInfo, type AppInfo } from "../core";
import { describeCoreError } from "../coreError";

export type AppInfoState =
  | { status: "loading" }
  | { status: "ready"; info: AppInfo }
  | { status: "failed"; message: string };

/** The app's version and server settings, with a face for every state. */
export function useAppInfo(): { appInfo: AppInfoState; reload: () => void } {
  const [appInfo, setAppInfo] = useState<AppInfoState>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    getAppInfo().then(
      (info) => {
        if (current) setAppInfo({ status: "ready", info });
      },
      (error: unknown) => {
        if (current) setAppInfo({ status: "failed", message: describeCoreError(error) });
      },
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  const reload = useCallback(() => {
    setAppInfo({ status: "loading" });
    setAttempt((n) => n + 1);
  }, []);

  return { appInfo, reload };
}
