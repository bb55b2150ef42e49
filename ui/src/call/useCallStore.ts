import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState } from "react";
import {
  answerCall,
  declineCall,
  getCurrentCall,
  hangUp as hangUpCall,
  onCallEvent,
  placeCall,
  selectAudioDevices,
  selectCamera,
  setCamera,
  setMuted,
  nextVideoFrame,
  type CallView,
} from "../core";
import { describeCoreError } from "../coreError";
import { ENDED_SHOWN_MS, callReducer, initialCallState, type CallState } from "./callState";
import { useCallTones } from "./useCallTones";
import { VideoFeed } from "./videoFeed";

/** The microphone and speaker chosen for the next call (null: the system default). */
export interface DeviceChoice {
  input: string | null;
  output: string | null;
  camera: string | null;
  /** What the chosen camera was called when it was chosen, to name it after it is unplugged. */
  cameraDescription: string | null;
}

export interface CallStore {
  state: CallState;
  /** Decoded video of the call, by stream. */
  feed: VideoFeed;
  /** A call command the core refused, in words. */
  actionError: string | null;
  dismissError: () => void;
  /** A call is being placed (before the core has answered). */
  placing: boolean;
  place: (userId: string, video: boolean, name?: string) => void;
  answer: (video: boolean) => void;
  decline: () => void;
  hangUp: () => void;
  toggleMute: () => void;
  toggleCamera: () => void;
  dismissEnded: () => void;
  /** The Calls tab is on screen. */
  markMissedSeen: () => void;
  devices: DeviceChoice;
  chooseDevices: (choice: DeviceChoice) => void;
}

/**
 * The call, live: currentCall() once (a window opened mid-call), then every
 * `call` event; the video channel registered once; ring tones; the ended
 * message's timer.
 */
export function useCallStore(): CallStore {
  const [state, dispatch] = useReducer(callReducer, initialCallState);
  const [actionError, setActionError] = useState<string | null>(null);
  const [placing, setPlacing] = useState(false);
  const [devices, setDevices] = useState<DeviceChoice>({ input: null, output: null, camera: null, cameraDescription: null });
  const devicesRef = useRef(devices);
  const [feed] = useState(() => new VideoFeed(nextVideoFrame));
  const callRef = useRef<CallView | null>(state.call);
  useEffect(() => {
    callRef.current = state.call;
  }, [state.call]);

  useEffect(() => {
    let mounted = true;
    const unsubscribe = onCallEvent((call) => {
      if (mounted) dispatch({ type: "changed", call });
    });
    getCurrentCall().then(
      (call) => mounted && dispatch({ type: "loaded", call }),
      (error: unknown) => console.warn("Could not ask for the current call:", error),
    );
    return () => {
      mounted = false;
      unsubscribe();
    };
  }, []);

  // The next call starts without the last picture.
  const callId = state.call?.callId ?? null;
  useEffect(() => {
    if (callId === null) feed.clear();
  }, [callId, feed]);

  const endedId = state.ended?.call.callId ?? null;
  useEffect(() => {
    if (endedId === null) return;
    const timer = setTimeout(() => dispatch({ type: "endedDismissed", callId: endedId }), ENDED_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [endedId]);

  useCallTones(state.call);

  const fail = useCallback((error: unknown) => setActionError(describeCoreError(error)), []);
  const returned = useCallback((call: CallView) => dispatch({ type: "returned", call }), []);

  const place = useCallback(
    (userId: string, video: boolean, name?: string) => {
      setActionError(null);
      setPlacing(true);
      placeCall(userId, video, name ?? null)
        .then(returned, fail)
        .finally(() => setPlacing(false));
    },
    [fail, returned],
  );

  const answer = useCallback(
    (video: boolean) => {
      const call = callRef.current;
      if (call === null) return;
      setActionError(null);
      answerCall(call.callId, video).then(returned, fail);
    },
    [fail, returned],
  );

  const decline = useCallback(() => {
    const call = callRef.current;
    if (call === null) return;
    declineCall(call.callId).catch(fail);
  }, [fail]);

  const hangUp = useCallback(() => {
    hangUpCall().catch(fail);
  }, [fail]);

  const toggleMute = useCallback(() => {
    const call = callRef.current;
    if (call === null) return;
    setMuted(!call.muted).then(returned, fail);
  }, [fail, returned]);

  const toggleCamera = useCallback(() => {
    const call = callRef.current;
    if (call === null) return;
    setCamera(!call.cameraOn).then(returned, fail);
  }, [fail, returned]);

  const dismissEnded = useCallback(() => {
    const ended = endedId;
    if (ended !== null) dispatch({ type: "endedDismissed", callId: ended });
  }, [endedId]);

  const markMissedSeen = useCallback(() => dispatch({ type: "missedSeen" }), []);
  const dismissError = useCallback(() => setActionError(null), []);

  const chooseDevices = useCallback(
    (choice: DeviceChoice) => {
      const before = devicesRef.current;
      devicesRef.current = choice;
      setDevices(choice);
      if (before.camera !== choice.camera) selectCamera(choice.camera).catch(fail);
      if (before.input !== choice.input || before.output !== choice.output) {
        selectAudioDevices(choice.input, choice.output).catch(fail);
      }
    },
    [fail],
  );

  return useMemo(
    () => ({
      state,
      feed,
      actionError,
      dismissError,
      placing,
      place,
      answer,
      decline,
      hangUp,
      toggleMute,
      toggleCamera,
      dismissEnded,
      markMissedSeen,
      devices,
      chooseDevices,
    }),
    [
      state,
      feed,
      actionError,
      dismissError,
      placing,
      place,
      answer,
      decline,
      hangUp,
      toggleMute,
      toggleCamera,
      dismissEnded,
      markMissedSeen,
      devices,
      chooseDevices,
    ],
  );
}

/** The app's call store, for parts far from the frame (the chat header). Null outside a CallContext. */
export const CallContext = createContext<CallStore | null>(null);

export function useCalls(): CallStore | null {
  return useContext(CallContext);
}
