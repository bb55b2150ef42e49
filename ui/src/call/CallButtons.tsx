import { Button, Tooltip } from "@fluentui/react-components";
import { CallRegular, VideoRegular } from "@fluentui/react-icons";
import type { ChatSummary } from "../core";
import { placeCall } from "../core";
import { useCalls } from "./useCallStore";

/** The person a chat's call buttons call: the other member of a 1:1 chat. */
export function calleeOf(chat: ChatSummary): string | null {
  return chat.kind === "oneOnOne" && chat.members.length === 1 ? (chat.members[0]?.id ?? null) : null;
}

/** Video and audio call buttons for a chat's header; disabled while a call goes on. */
export function CallButtons({ chat }: { chat: ChatSummary }) {
  const calls = useCalls();
  const callee = calleeOf(chat);
  const busy = calls !== null && (calls.state.call !== null || calls.placing);
  const place = (video: boolean) => {
    if (callee === null) return;
    if (calls !== null) calls.place(callee, video);
    else placeCall(callee, video).catch((error: unknown) => console.warn("Could not place the call:", error));
  };

  if (callee === null) {
    return (
      <>
        <Tooltip content="Group calls come in a later version" relationship="description">
          <Button appearance="subtle" icon={<VideoRegular />} aria-label="Video call" disabledFocusable data-testid="call-video-button" />
        </Tooltip>
        <Tooltip content="Group calls come in a later version" relationship="description">
          <Button appearance="subtle" icon={<CallRegular />} aria-label="Audio call" disabledFocusable data-testid="call-audio-button" />
        </Tooltip>
      </>
    );
  }

  const busyNote = busy ? " (a call is going on)" : "";
  return (
    <>
      <Tooltip content={`Video call ${chat.title}${busyNote}`} relationship="label">
        <Button
          appearance="subtle"
          icon={<VideoRegular />}
          disabledFocusable={busy}
          onClick={() => place(true)}
          data-testid="call-video-button"
        />
      </Tooltip>
      <Tooltip content={`Audio call ${chat.title}${busyNote}`} relationship="label">
        <Button
          appearance="subtle"
          icon={<CallRegular />}
          disabledFocusable={busy}
          onClick={() => place(false)}
          data-testid="call-audio-button"
        />
      </Tooltip>
    </>
  );
}
