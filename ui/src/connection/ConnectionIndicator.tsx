import type { ReactElement } from "react";
import { Badge, Button, Caption1, Spinner, makeStyles, tokens, type BadgeProps } from "@fluentui/react-components";
import {
  ArrowClockwiseRegular,
  ArrowSyncRegular,
  CheckmarkCircleFilled,
  PlugDisconnectedRegular,
  QuestionCircleRegular,
} from "@fluentui/react-icons";
import { connectionLabels, indicatorState, type IndicatorState } from "./connectionLabels";
import type { ConnectionView } from "./useConnectionStatus";

const useStyles = makeStyles({
  root: {
    display: "flex",
    alignItems: "center",
    justifyContent: "space-between",
    flexWrap: "wrap",
    gap: tokens.spacingHorizontalM,
  },
  status: {
    display: "flex",
    flexDirection: "column",
    alignItems: "flex-start",
    gap: tokens.spacingVerticalXS,
    minWidth: 0,
  },
  detail: {
    color: tokens.colorNeutralForeground3,
    overflowWrap: "anywhere",
  },
});

const badgeColor: Record<IndicatorState, NonNullable<BadgeProps["color"]>> = {
  checking: "informative",
  reachable: "success",
  reconnecting: "warning",
  unreachable: "danger",
  unknown: "informative",
};

const badgeIcon: Record<IndicatorState, ReactElement> = {
  checking: <Spinner size="extra-tiny" aria-hidden />,
  reachable: <CheckmarkCircleFilled />,
  reconnecting: <ArrowSyncRegular />,
  unreachable: <PlugDisconnectedRegular />,
  unknown: <QuestionCircleRegular />,
};

function detailFor({ status, problem }: ConnectionView): string | null {
  if (problem !== null) return `Convene couldn't ask for the connection status: ${problem}`;
  if (status === null) return null;
  switch (status.state) {
    case "unreachable":
      return status.error ?? `No answer from ${status.server}.`;
    case "reachable":
      return status.serverVersion === null ? null : `Server version ${status.serverVersion}`;
    case "reconnecting":
      return status.error;
    case "checking":
      return null;
  }
}

/** Whether the server answers, in words and colour, announced when it changes. */
export function ConnectionIndicator({ connection }: { connection: ConnectionView }) {
  const styles = useStyles();
  const state = indicatorState(connection.status?.state, connection.problem);
  const detail = detailFor(connection);
  const offerRetry = state === "unreachable" || connection.problem !== null;

  return (
    <div className={styles.root}>
      <div className={styles.status} aria-live="polite" aria-atomic="true">
        <Badge
          data-testid="connection-state"
          data-state={state}
          appearance="tint"
          shape="rounded"
          size="large"
          color={badgeColor[state]}
          icon={badgeIcon[state]}
        >
          {connectionLabels[state]}
        </Badge>
        {detail !== null && (
          <Caption1 className={styles.detail} data-testid="connection-detail">
            {detail}
          </Caption1>
        )}
      </div>
      {offerRetry && (
        <Button
          data-testid="retry-connection"
          appearance="secondary"
          icon={connection.checking ? <Spinner size="extra-tiny" /> : <ArrowClockwiseRegular />}
          disabledFocusable={connection.checking}
          onClick={connection.checkNow}
        >
          Try again
        </Button>
      )}
    </div>
  );
}
