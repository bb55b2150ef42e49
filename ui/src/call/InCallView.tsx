import { useEffect, useRef } from "react";
import {
  Avatar,
  Button,
  FluentProvider,
  Text,
  Title2,
  Tooltip,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import {
  CallEndFilled,
  DismissRegular,
  MicOffRegular,
  MicRegular,
  VideoOffRegular,
  VideoRegular,
} from "@fluentui/react-icons";
import type { Theme } from "@fluentui/react-components";
import type { CallView } from "../core";
import { CallDuration } from "./CallDuration";
import { CallQualityIndicator } from "./CallQualityIndicator";
import { endedMessage, peerName, statusText } from "./callState";
import { DeviceMenu } from "./DeviceMenu";
import type { CallStore } from "./useCallStore";
import { VideoCanvas } from "./VideoCanvas";

const useStyles = makeStyles({
  // The stage's place over the main pane. Not on the FluentProvider: Fluent
  // copies a provider's classes onto the portal nodes of its tooltips and
  // menus, and a full-window, opaque portal node hid the call and took
  // every click.
  layer: { position: "absolute", inset: 0, zIndex: 10 },
  root: {
    outlineStyle: "none",
    position: "absolute",
    inset: 0,
    display: "flex",
    flexDirection: "column",
    backgroundColor: "#141414",
    color: tokens.colorNeutralForeground1,
  },
  top: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXL}`,
  },
  name: { fontWeight: tokens.fontWeightSemibold },
  status: { color: tokens.colorNeutralForeground2, flexGrow: 1 },
  duration: { fontVariantNumeric: "tabular-nums", color: tokens.colorNeutralForeground2 },
  stage: {
    position: "relative",
    flexGrow: 1,
    minHeight: 0,
    margin: `0 ${tokens.spacingHorizontalL}`,
    borderRadius: tokens.borderRadiusXLarge,
    overflow: "hidden",
    backgroundColor: "#1f1f1f",
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
  },
  remote: { width: "100%", height: "100%", objectFit: "contain", backgroundColor: "#000" },
  hidden: { display: "none" },
  placeholder: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    gap: tokens.spacingVerticalL,
    textAlign: "center",
  },
  nameLabel: {
    position: "absolute",
    left: tokens.spacingHorizontalM,
    bottom: tokens.spacingVerticalM,
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalXS,
    padding: `${tokens.spacingVerticalXXS} ${tokens.spacingHorizontalS}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: "rgba(0, 0, 0, 0.6)",
    color: "#fff",
  },
  local: {
    position: "absolute",
    right: tokens.spacingHorizontalM,
    bottom: tokens.spacingVerticalM,
    width: "22%",
    minWidth: "120px",
    maxWidth: "260px",
    aspectRatio: "16 / 9",
    objectFit: "cover",
    borderRadius: tokens.borderRadiusLarge,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke1}`,
    backgroundColor: "#000",
    // Mirror the self-view, as a mirror would.
    transform: "scaleX(-1)",
  },
  ended: { fontSize: tokens.fontSizeBase500 },
  bar: {
    display: "flex",
    justifyContent: "center",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    padding: tokens.spacingVerticalL,
  },
  hangUp: {
    backgroundColor: tokens.colorPaletteRedBackground3,
    color: "#fff",
    ":hover": { backgroundColor: tokens.colorPaletteRedForeground1, color: "#fff" },
    ":hover:active": { backgroundColor: tokens.colorPaletteDarkRedBackground2, color: "#fff" },
  },
  error: { color: tokens.colorPaletteRedForeground1, textAlign: "center" },
});

interface InCallViewProps {
  /** The call on screen: going on, or just ended (then `ended` is true). */
  call: CallView;
  ended: boolean;
  store: CallStore;
  /** The dark theme of the stage (the app's own in high contrast). */
  theme: Theme;
}

/** The call on a dark stage: remote video large, self-view in a corner, controls at the bottom. */
export function InCallView({ call, ended, store, theme }: InCallViewProps) {
  const styles = useStyles();
  const rootRef = useRef<HTMLElement>(null);
  // The view takes over the pane: focus goes with it (the button that placed the call is gone).
  useEffect(() => {
    rootRef.current?.focus();
  }, []);
  const name = peerName(call);
  const stage = ended ? "ended" : call.stage;
  const showRemote = !ended && call.remoteVideo;
  const status = ended ? endedMessage(call) : statusText(call);

  return (
    <div className={styles.layer}>
      <FluentProvider theme={theme} style={{ height: "100%" }}>
        <section
          ref={rootRef}
          tabIndex={-1}
          className={styles.root}
          aria-label={`Call with ${name}`}
          data-testid="call-view"
          data-stage={stage}
        >
          <div className={styles.top}>
            <Text className={styles.name}>{name}</Text>
            <Text className={styles.status} role="status" aria-live="polite" data-testid="call-status">
              {status}
            </Text>
            {!ended && call.connectedAtMs !== null && <CallDuration className={styles.duration} sinceMs={call.connectedAtMs} />}
            {!ended && call.stage !== "calling" && call.stage !== "ringing" && <CallQualityIndicator quality={call.quality} />}
          </div>
          <div className={styles.stage}>
            <VideoCanvas
              feed={store.feed}
              stream="remote"
              className={showRemote ? styles.remote : styles.hidden}
              data-testid="call-remote-video"
              aria-label={`${name}'s video`}
              role="img"
            />
            {!showRemote && (
              <div className={styles.placeholder}>
                <Avatar name={name} size={128} color="colorful" aria-hidden />
                {ended && (
                  <Title2 as="p" className={styles.ended} data-testid="call-ended" data-reason={call.ended ?? "hungUp"}>
                    {endedMessage(call)}
                  </Title2>
                )}
              </div>
            )}
            {showRemote && <span className={styles.nameLabel}>{name}</span>}
            {!ended && call.cameraOn && (
              <VideoCanvas
                feed={store.feed}
                stream="local"
                className={styles.local}
                data-testid="call-local-video"
                aria-label="Your video"
                role="img"
              />
            )}
          </div>
          {store.actionError !== null && (
            <Text className={styles.error} role="alert" data-testid="call-error">
              {store.actionError}
            </Text>
          )}
          <div className={styles.bar} role="toolbar" aria-label="Call controls">
            {ended ? (
              <Button icon={<DismissRegular />} onClick={store.dismissEnded} data-testid="call-ended-close">
                Close
              </Button>
            ) : (
              <>
                <Tooltip content="Mute" relationship="label">
                  <Button
                    shape="circular"
                    size="large"
                    icon={call.muted ? <MicOffRegular /> : <MicRegular />}
                    aria-pressed={call.muted}
                    onClick={store.toggleMute}
                    data-testid="call-mute"
                  />
                </Tooltip>
                <Tooltip content="Camera" relationship="label">
                  <Button
                    shape="circular"
                    size="large"
                    icon={call.cameraOn ? <VideoRegular /> : <VideoOffRegular />}
                    aria-pressed={call.cameraOn}
                    onClick={store.toggleCamera}
                    data-testid="call-camera"
                  />
                </Tooltip>
                <DeviceMenu choice={store.devices} onChoose={store.chooseDevices} />
                <Tooltip content="Hang up" relationship="label">
                  <Button
                    shape="circular"
                    size="large"
                    className={styles.hangUp}
                    icon={<CallEndFilled />}
                    onClick={store.hangUp}
                    data-testid="call-hangup"
                  />
                </Tooltip>
              </>
            )}
          </div>
        </section>
      </FluentProvider>
    </div>
  );
}
