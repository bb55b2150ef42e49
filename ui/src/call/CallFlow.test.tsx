import { act, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chat } from "../test/chatFixtures";
import { callView, historyEntry, quality, videoPacket } from "../test/callFixtures";
import { fakeCore, sampleAccount } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";
import { openChat } from "../test/renderChat";
import { ENDED_SHOWN_MS } from "./callState";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

async function renderSignedIn() {
  fakeCore.getCurrentAccount.mockResolvedValue(sampleAccount);
  const app = await renderApp();
  await screen.findByTestId("chat-list");
  return app;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("placing a call from a chat", () => {
  it("calls the other member with or without video, and disables the buttons while the call goes on", async () => {
    fakeCore.getChats.mockResolvedValue([chat({ id: "c1" })]);
    fakeCore.placeCall.mockImplementation((userId, video) =>
      Promise.resolve(callView({ peer: { userId, name: "Bob Smith" }, stage: "calling", cameraOn: video })),
    );
    const { user } = await renderSignedIn();
    await screen.findAllByTestId("chat-row");
    await openChat(user, "c1");

    const videoButton = screen.getByTestId("call-video-button");
    expect(videoButton).toHaveAccessibleName("Video call Bob Smith");
    expect(screen.getByTestId("call-audio-button")).toHaveAccessibleName("Audio call Bob Smith");
    await user.click(videoButton);
    expect(fakeCore.placeCall).toHaveBeenCalledExactlyOnceWith("u-bob", true, null);

    const view = await screen.findByTestId("call-view");
    expect(view).toHaveAttribute("data-stage", "calling");
    expect(screen.getByTestId("call-status")).toHaveTextContent("Calling Bob Smith…");
    expect(screen.getByTestId("call-status")).toHaveAttribute("aria-live", "polite");

    // Back in the chat after the call: the buttons work again.
    fakeCore.pushCall(callView({ stage: "ended", ended: "noAnswer" }));
    expect(screen.getByTestId("call-ended")).toHaveTextContent("No answer");
    await user.click(screen.getByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("call-view")).not.toBeInTheDocument();
    expect(screen.getByTestId("call-audio-button")).not.toHaveAttribute("aria-disabled");

    fakeCore.pushCall(callView({ callId: "call-2", side: "incoming", stage: "incoming" }));
    expect(screen.getByTestId("call-audio-button")).toHaveAttribute("aria-disabled", "true");
    await user.click(screen.getByTestId("call-audio-button"));
    expect(fakeCore.placeCall).toHaveBeenCalledTimes(1);
  });

  it("offers no calls in a group chat", async () => {
    fakeCore.getChats.mockResolvedValue([chat({ id: "g1", kind: "group", title: "Team" })]);
    const { user } = await renderSignedIn();
    await screen.findAllByTestId("chat-row");
    await openChat(user, "g1");
    expect(screen.getByTestId("call-video-button")).toHaveAttribute("aria-disabled", "true");
  });
});

describe("an incoming call", () => {
  it("shows the caller and answers with video, answers audio only, or declines", async () => {
    fakeCore.answerCall.mockImplementation((callId, video) =>
      Promise.resolve(callView({ callId, side: "incoming", stage: "connecting", cameraOn: video })),
    );
    const { user } = await renderSignedIn();
    const incoming = callView({ callId: "in-1", side: "incoming", stage: "incoming", cameraOn: false });
    fakeCore.pushCall(incoming);

    const toast = screen.getByTestId("incoming-call");
    expect(toast).toHaveTextContent("Bob Smith");
    expect(toast).toHaveTextContent("Incoming video call");
    expect(toast.querySelector(".fui-Avatar")).toHaveTextContent("BS");
    await user.click(screen.getByTestId("incoming-accept-video"));
    expect(fakeCore.answerCall).toHaveBeenLastCalledWith("in-1", true);
    await user.click(screen.getByTestId("incoming-accept-audio"));
    expect(fakeCore.answerCall).toHaveBeenLastCalledWith("in-1", false);
    await user.click(screen.getByTestId("incoming-decline"));
    expect(fakeCore.declineCall).toHaveBeenCalledExactlyOnceWith("in-1");

    // Declined here: the toast goes without a word.
    fakeCore.pushCall({ ...incoming, stage: "ended", ended: "hungUp" });
    expect(screen.queryByTestId("incoming-call")).not.toBeInTheDocument();
  });

  it("goes to the call view once answered", async () => {
    await renderSignedIn();
    fakeCore.pushCall(callView({ callId: "in-1", side: "incoming", stage: "incoming" }));
    fakeCore.pushCall(callView({ callId: "in-1", side: "incoming", stage: "connecting" }));
    expect(screen.queryByTestId("incoming-call")).not.toBeInTheDocument();
    expect(screen.getByTestId("call-view")).toHaveAttribute("data-stage", "connecting");
  });

  it("says when a call was missed or answered on another device, counts missed calls on Calls", async () => {
    const { user } = await renderSignedIn();
    const incoming = callView({ callId: "in-1", side: "incoming", stage: "incoming" });
    fakeCore.pushCall(incoming);
    fakeCore.pushCall({ ...incoming, stage: "ended", ended: "cancelled" });
    expect(screen.getByTestId("call-ended")).toHaveTextContent("Missed call from Bob Smith");
    expect(within(screen.getByTestId("rail-calls")).getByTestId("unread-badge")).toHaveTextContent("1");
    expect(screen.getByTestId("rail-calls")).toHaveAccessibleName("Calls, 1 missed");

    const other = callView({ callId: "in-2", side: "incoming", stage: "incoming" });
    fakeCore.pushCall(other);
    fakeCore.pushCall({ ...other, stage: "ended", ended: "answeredElsewhere" });
    expect(screen.getByTestId("call-ended")).toHaveTextContent("Answered on another device");
    expect(screen.getByTestId("call-ended")).toHaveAttribute("data-reason", "answeredElsewhere");

    await user.click(screen.getByTestId("rail-calls"));
    expect(within(screen.getByTestId("rail-calls")).queryByTestId("unread-badge")).not.toBeInTheDocument();
  });
});

describe("the in-call view", () => {
  it("mutes, turns the camera off and hangs up through the core", async () => {
    fakeCore.setMuted.mockImplementation((muted) => Promise.resolve(callView({ muted })));
    fakeCore.setCamera.mockImplementation((on) => Promise.resolve(callView({ cameraOn: on })));
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView({ quality: quality({ rating: "fair", relayed: true }) }));

    const mute = screen.getByTestId("call-mute");
    expect(mute).toHaveAccessibleName("Mute");
    expect(mute).toHaveAttribute("aria-pressed", "false");
    await user.click(mute);
    expect(fakeCore.setMuted).toHaveBeenCalledExactlyOnceWith(true);
    await waitFor(() => expect(screen.getByTestId("call-mute")).toHaveAttribute("aria-pressed", "true"));

    expect(screen.getByTestId("call-local-video")).toBeInTheDocument();
    await user.click(screen.getByTestId("call-camera"));
    expect(fakeCore.setCamera).toHaveBeenCalledExactlyOnceWith(false);
    await waitFor(() => expect(screen.queryByTestId("call-local-video")).not.toBeInTheDocument());

    const bars = screen.getByTestId("call-quality");
    expect(bars).toHaveAttribute("data-rating", "fair");
    expect(bars).toHaveAccessibleName("Call quality: Fair");

    await user.click(screen.getByTestId("call-hangup"));
    expect(fakeCore.hangUp).toHaveBeenCalledOnce();
    expect(screen.getByTestId("call-hangup")).toHaveAccessibleName("Hang up");
  });

  it("counts the duration from when media first flowed, every second", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    await renderSignedIn();
    fakeCore.pushCall(callView({ connectedAtMs: Date.now() - 65_000 }));
    expect(screen.getByTestId("call-duration")).toHaveTextContent("01:05");
    act(() => {
      vi.advanceTimersByTime(2000);
    });
    expect(screen.getByTestId("call-duration")).toHaveTextContent("01:07");
  });

  it("shows the avatar without remote video, and the status while reconnecting", async () => {
    await renderSignedIn();
    fakeCore.pushCall(callView({ stage: "reconnecting", remoteVideo: false }));
    expect(screen.getByTestId("call-view")).toHaveAttribute("data-stage", "reconnecting");
    expect(screen.getByTestId("call-status")).toHaveTextContent("Reconnecting");
    expect(screen.getByTestId("call-remote-video")).not.toBeVisible();
  });

  it("draws remote frames and counts them on the canvas", async () => {
    const putImageData = vi.fn();
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(
      () =>
        ({
          createImageData: (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) }),
          putImageData,
        }) as unknown as CanvasRenderingContext2D,
    );
    await renderSignedIn();
    fakeCore.pushCall(callView());
    const canvas = screen.getByTestId("call-remote-video");
    expect(canvas).toHaveAttribute("data-frames", "0");

    await waitFor(() => expect(fakeCore.wantsVideo("remote")).toBe(true));
    fakeCore.pushVideo(videoPacket("remote", 4, 2));
    await waitFor(() => expect(canvas).toHaveAttribute("data-frames", "1"));
    expect(canvas).toHaveAttribute("width", "4");
    expect(putImageData).toHaveBeenCalledOnce();

    // The next frame is asked for after the paint, and drawn in its turn.
    await waitFor(() => expect(fakeCore.wantsVideo("remote")).toBe(true));
    fakeCore.pushVideo(videoPacket("remote", 16, 2));
    await waitFor(() => expect(canvas).toHaveAttribute("data-frames", "2"));
    expect(canvas).toHaveAttribute("width", "16");
  });

  it("says why the call ended for a moment, then returns to where the user was", async () => {
    const { user } = await renderSignedIn();
    await user.click(screen.getByTestId("rail-settings"));
    fakeCore.pushCall(callView({ stage: "ringing" }));
    expect(screen.queryByTestId("settings-screen")).not.toBeInTheDocument();

    vi.useFakeTimers({ shouldAdvanceTime: true });
    fakeCore.pushCall(callView({ stage: "ended", ended: "declined" }));
    expect(screen.getByTestId("call-view")).toHaveAttribute("data-stage", "ended");
    expect(screen.getByTestId("call-ended")).toHaveTextContent("Bob Smith declined");
    expect(screen.getByTestId("call-ended")).toHaveAttribute("data-reason", "declined");
    expect(screen.getByTestId("call-status")).toHaveTextContent("Bob Smith declined");

    act(() => {
      vi.advanceTimersByTime(ENDED_SHOWN_MS);
    });
    expect(screen.queryByTestId("call-view")).not.toBeInTheDocument();
    expect(screen.getByTestId("settings-screen")).toBeInTheDocument();
  });

  it("picks up a call already going on when the window opens", async () => {
    fakeCore.getCurrentCall.mockResolvedValue(callView({ stage: "connected" }));
    await renderSignedIn();
    const view = await screen.findByTestId("call-view");
    expect(view).toHaveAttribute("data-stage", "connected");
    // The view takes over the main pane, focus included; the chat beneath is out of reach.
    expect(view).toHaveFocus();
    expect(screen.getByTestId("chat-list").closest("[inert]")).not.toBeNull();
  });

  it("lists the audio devices and selects one", async () => {
    fakeCore.plugged.audio = [
      { name: "USB Headset", input: true, isDefault: false },
      { name: "Built-in Microphone", input: true, isDefault: true },
      { name: "Speakers", input: false, isDefault: true },
    ];
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    await user.click(screen.getByTestId("call-devices"));
    expect(screen.getByTestId("call-devices")).toHaveAccessibleName("Devices");
    const headset = await screen.findByRole("menuitemradio", { name: "USB Headset" });
    expect(screen.getByText("Your choice applies at once.")).toBeInTheDocument();
    await user.click(headset);
    expect(fakeCore.selectAudioDevices).toHaveBeenCalledExactlyOnceWith("USB Headset", null);
    expect(fakeCore.selectCamera).not.toHaveBeenCalled();
  });

  it("shows a headset plugged in while the picker is open, and stops watching when it closes", async () => {
    fakeCore.plugged.audio = [{ name: "Speakers", input: false, isDefault: true }];
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    expect(fakeCore.watchingDevices()).toBe(false);
    await user.click(screen.getByTestId("call-devices"));
    await screen.findByRole("menuitemradio", { name: "Speakers (default)" });
    expect(fakeCore.watchingDevices()).toBe(true);

    fakeCore.pushDevices([
      { name: "Speakers", input: false, isDefault: true },
      { name: "USB Headset", input: true, isDefault: false },
    ]);
    const headset = await screen.findByRole("menuitemradio", { name: "USB Headset" });
    await user.click(headset);
    expect(fakeCore.selectAudioDevices).toHaveBeenCalledExactlyOnceWith("USB Headset", null);

    // Choosing closes the menu. Opened again with the headset unplugged, it
    // is still the choice, marked, while the call falls back to the default.
    await waitFor(() => expect(screen.queryByRole("menu")).not.toBeInTheDocument());
    expect(fakeCore.watchingDevices()).toBe(false);
    await user.click(screen.getByTestId("call-devices"));
    const missing = await screen.findByRole("menuitemradio", {
      name: "USB Headset (not connected: using the system default)",
    });
    expect(missing).toHaveAttribute("aria-checked", "true");
    // Plugged back in: listed as usual, still chosen.
    fakeCore.pushDevices([
      { name: "Speakers", input: false, isDefault: true },
      { name: "USB Headset", input: true, isDefault: false },
    ]);
    expect(await screen.findByRole("menuitemradio", { name: "USB Headset" })).toHaveAttribute("aria-checked", "true");

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("menu")).not.toBeInTheDocument());
    expect(fakeCore.watchingDevices()).toBe(false);
  });

  it("shows a camera plugged in while the picker is open", async () => {
    fakeCore.plugged.cameras = [{ name: "v4l2_input.integrated", description: "Integrated Camera" }];
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    await user.click(screen.getByTestId("call-devices"));
    await screen.findByRole("menuitemradio", { name: "Integrated Camera" });
    fakeCore.pushCameras([
      { name: "v4l2_input.integrated", description: "Integrated Camera" },
      { name: "v4l2_input.usb-webcam", description: "HD Webcam" },
    ]);
    expect(await screen.findByRole("menuitemradio", { name: "HD Webcam" })).toBeInTheDocument();
    fakeCore.pushCameras([{ name: "v4l2_input.integrated", description: "Integrated Camera" }]);
    await waitFor(() => expect(screen.queryByRole("menuitemradio", { name: "HD Webcam" })).not.toBeInTheDocument());
  });

  /** In a call, with "HD Webcam" plugged in, picks it. */
  async function chooseTheWebcam() {
    const webcam = { name: "v4l2_input.usb-webcam", description: "HD Webcam" };
    fakeCore.plugged.cameras = [webcam];
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    await user.click(screen.getByTestId("call-devices"));
    await user.click(await screen.findByRole("menuitemradio", { name: "HD Webcam" }));
    expect(fakeCore.selectCamera).toHaveBeenCalledExactlyOnceWith(webcam.name);
    return user;
  }

  it("keeps an unplugged camera chosen, marked, under the name it was shown with", async () => {
    const user = await chooseTheWebcam();

    await user.click(screen.getByTestId("call-devices"));
    await screen.findByRole("menuitemradio", { name: "HD Webcam" });
    fakeCore.pushCameras([]);
    const missing = await screen.findByRole("menuitemradio", {
      name: "HD Webcam (not connected)",
    });
    expect(missing).toHaveAttribute("aria-checked", "true");
  });

  it("still names an unplugged camera in the next call, whose picker never saw it", async () => {
    const user = await chooseTheWebcam();
    fakeCore.pushCall(callView({ stage: "ended", ended: "hungUp" }));
    await user.click(screen.getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByTestId("call-view")).not.toBeInTheDocument());

    fakeCore.plugged.cameras = [];
    fakeCore.pushCall(callView({ callId: "call-2" }));
    await user.click(await screen.findByTestId("call-devices"));
    const missing = await screen.findByRole("menuitemradio", { name: "HD Webcam (not connected)" });
    expect(missing).toHaveAttribute("aria-checked", "true");
  });

  it("lists the cameras by name and selects one without touching the audio choice", async () => {
    fakeCore.plugged.cameras = [
      { name: "v4l2_input.pci-0000_00_14.0-usb-0_1_1.0", description: "Integrated Camera" },
      { name: "v4l2_input.usb-046d_HD_Webcam", description: "HD Webcam" },
    ];
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    await user.click(screen.getByTestId("call-devices"));
    const webcam = await screen.findByRole("menuitemradio", { name: "HD Webcam" });
    expect(screen.getByRole("menuitemradio", { name: "Integrated Camera" })).toBeInTheDocument();
    await user.click(webcam);
    expect(fakeCore.selectCamera).toHaveBeenCalledExactlyOnceWith("v4l2_input.usb-046d_HD_Webcam");
    expect(fakeCore.selectAudioDevices).not.toHaveBeenCalled();
  });

  it("says why no microphones or speakers are listed, and lists them once they can be", async () => {
    fakeCore.plugged.audio = { unavailable: "no sound server is running" };
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    await user.click(screen.getByTestId("call-devices"));
    expect(await screen.findByText("Could not list devices: no sound server is running")).toBeInTheDocument();
    fakeCore.pushDevices([{ name: "Speakers", input: false, isDefault: true }]);
    expect(await screen.findByRole("menuitemradio", { name: "Speakers (default)" })).toBeInTheDocument();
    expect(screen.getByText("Your choice applies at once.")).toBeInTheDocument();
  });

  it("offers the system default camera when none can be listed", async () => {
    fakeCore.plugged.cameras = null;
    const { user } = await renderSignedIn();
    fakeCore.pushCall(callView());
    await user.click(screen.getByTestId("call-devices"));
    const group = await screen.findByText("Camera");
    expect(group).toBeInTheDocument();
    expect(screen.getAllByRole("menuitemradio", { name: "System default" })).toHaveLength(3);
  });
});

describe("the Calls tab", () => {
  it("lists the history with direction, media, outcome and duration, and calls back with the same media", async () => {
    fakeCore.getCallHistory.mockResolvedValue([
      historyEntry({ id: "h1", direction: "incoming", outcome: "noAnswer", media: ["audio", "video"] }),
      historyEntry({ id: "h2", direction: "outgoing", outcome: "hungUp", durationSecs: 125 }),
    ]);
    fakeCore.placeCall.mockResolvedValue(callView({ stage: "calling" }));
    const { user } = await renderSignedIn();
    await user.click(screen.getByTestId("rail-calls"));

    const rows = await screen.findAllByTestId("call-history-row");
    expect(rows).toHaveLength(2);
    const [missed, answered] = rows as [HTMLElement, HTMLElement];
    expect(missed).toHaveAttribute("data-kind", "missed");
    expect(missed).toHaveTextContent("Bob Smith");
    expect(missed).toHaveTextContent("Missed · video · Missed");
    expect(within(missed).getByRole("img", { name: "Missed" })).toBeInTheDocument();
    expect(answered).toHaveAttribute("data-kind", "outgoing");
    expect(answered).toHaveTextContent("Outgoing · audio · Answered · 02:05");

    await user.click(within(missed).getByRole("button", { name: "Video call Bob Smith" }));
    expect(fakeCore.placeCall).toHaveBeenLastCalledWith("u-bob", true, "Bob Smith");
    expect(await screen.findByTestId("call-view")).toBeInTheDocument();

    // The list is read again when the call ends.
    const reads = fakeCore.getCallHistory.mock.calls.length;
    fakeCore.pushCall(callView({ stage: "ended", ended: "hungUp" }));
    await user.click(screen.getByRole("button", { name: "Close" }));
    await waitFor(() => expect(fakeCore.getCallHistory.mock.calls.length).toBeGreaterThan(reads));
    await user.click(within(screen.getAllByTestId("call-history-row")[1]).getByRole("button", { name: "Call Bob Smith" }));
    expect(fakeCore.placeCall).toHaveBeenLastCalledWith("u-bob", false, "Bob Smith");
  });

  it("finds a colleague by name and calls them, with or without video", async () => {
    fakeCore.searchPeople.mockResolvedValue([
      { id: "u-carol", displayName: "Carol Jones", userPrincipalName: "carol@convene.example" },
    ]);
    fakeCore.placeCall.mockResolvedValue(callView({ stage: "calling" }));
    const { user } = await renderSignedIn();
    await user.click(screen.getByTestId("rail-calls"));

    await user.type(screen.getByRole("searchbox", { name: "Find someone to call" }), "car");
    const person = await screen.findByTestId("make-call-person");
    expect(fakeCore.searchPeople).toHaveBeenLastCalledWith("car");
    expect(person).toHaveTextContent("carol@convene.example");
    await user.click(within(person).getByRole("button", { name: "Call Carol Jones" }));
    expect(fakeCore.placeCall).toHaveBeenCalledExactlyOnceWith("u-carol", false, "Carol Jones");
  });

  it("says when nobody matches the name typed", async () => {
    fakeCore.searchPeople.mockResolvedValue([]);
    const { user } = await renderSignedIn();
    await user.click(screen.getByTestId("rail-calls"));
    await user.type(screen.getByRole("searchbox", { name: "Find someone to call" }), "zed");
    expect(await screen.findByText("No one by that name")).toBeInTheDocument();
    expect(fakeCore.placeCall).not.toHaveBeenCalled();
  });

  it("says what to do when there are no calls yet", async () => {
    const { user } = await renderSignedIn();
    await user.click(screen.getByTestId("rail-calls"));
    expect(await screen.findByTestId("call-history-empty")).toHaveTextContent("No calls yet");
  });
});
