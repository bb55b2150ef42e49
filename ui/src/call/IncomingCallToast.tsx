import { Avatar, Button, Text, makeStyles, tokens, useId } from "@fluentui/react-components";
import { CallDismissRegular, CallRegular, DismissRegular, VideoRegular } from "@fluentui/react-icons";
import type { CallView } from "../core";
import { endedMessage, hasVideo, peerName } from "./callState";

const useStyles = makeStyles({
  root: {
    position: "fixed",
    top: tokens.spacingVerticalL,
    right: tokens.spacingHorizontalL,
    zIndex: 20,
    width: "340px",
    maxWidth: "calc(100vw - 32px)",
    boxSizing: "border-box",
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    padding: tokens.spacingHorizontalL,
    borderRadius: tokens.borderRadiusXLarge,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow28,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  who: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalM },
  words: { display: "flex", flexDirection: "column", minWidth: 0 },
  name: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  kind: { color: tokens.colorNeutralForeground3 },
  actions: { display: "flex", gap: tokens.spacingHorizontalS, flexWrap: "wrap" },
  accept: {
    backgroundColor: tokens.colorPaletteGreenBackground3,
    color: "#fff",
    ":hover": { backgroundColor: tokens.colorPaletteGreenForeground1, color: "#fff" },
    ":hover:active": { backgroundColor: tokens.colorPaletteDarkGreenBorderActive, color: "#fff" },
  },
  decline: {
    backgroundColor: tokens.colorPaletteRedBackground3,
    color: "#fff",
    ":hover": { backgroundColor: tokens.colorPaletteRedForeground1, color: "#fff" },
    ":hover:active": { backgroundColor: tokens.colorPaletteDarkRedBackground2, color: "#fff" },
  },
});

interface IncomingCallToastProps {
  call: CallView;
  /** The call is over (missed, answered elsewhere): show why, with a close button. */
  ended: boolean;
  onAccept: (video: boolean) => void;
  onDecline: () => void;
  onDismiss: () => void;
}

/** Someone calls: who, and Accept with video / Accept audio / Decline. */
export function IncomingCallToast({ call, ended, onAccept, onDecline, onDismiss }: IncomingCallToastProps) {
  const styles = useStyles();
  const titleId = useId("incoming-title");
  const name = peerName(call);
  const video = hasVideo(call.media);
  return (
    <section
      className={styles.root}
      role={ended ? "status" : "alertdialog"}
      aria-labelledby={titleId}
      data-testid="incoming-call"
    >
      <div className={styles.who}>
        <Avatar name={name} size={48} color="colorful" aria-hidden />
        <div className={styles.words}>
          <Text id={titleId} weight="semibold" size={400} className={styles.name}>
            {name}
          </Text>
          {ended ? (
            <Text className={styles.kind} data-testid="call-ended" data-reason={call.ended ?? "hungUp"}>
              {endedMessage(call)}
            </Text>
          ) : (
            <Text className={styles.kind}>{video ? "Incoming video call" : "Incoming audio call"}</Text>
          )}
        </div>
      </div>
      <div className={styles.actions}>
        {ended ? (
          <Button icon={<DismissRegular />} onClick={onDismiss}>
            Close
          </Button>
        ) : (
          <>
            <Button className={styles.accept} icon={<VideoRegular />} onClick={() => onAccept(true)} data-testid="incoming-accept-video">
              Accept with video
            </Button>
            <Button className={styles.accept} icon={<CallRegular />} onClick={() => onAccept(false)} data-testid="incoming-accept-audio">
              Accept audio
            </Button>
            <Button className={styles.decline} icon={<CallDismissRegular />} onClick={onDecline} data-testid="incoming-decline">
              Decline
            </Button>
          </>
        )}
      </div>
    </section>
  );
}
