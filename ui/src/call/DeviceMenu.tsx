import { useEffect, useState } from "react";
import {
  Button,
  Menu,
  MenuDivider,
  MenuGroup,
  MenuGroupHeader,
  MenuItemRadio,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Tooltip,
  type MenuProps,
} from "@fluentui/react-components";
import { SpeakerSettingsRegular } from "@fluentui/react-icons";
import { watchDevices, type AudioDeviceInfo, type CameraDeviceInfo } from "../core";
import type { DeviceChoice } from "./useCallStore";

const DEFAULT = "\u0000default";

/**
 * The microphone, speaker and camera picker of the control bar. A choice
 * applies at once, to the call in progress and to the next. While it is
 * open, microphones, speakers and cameras plugged in or out come and go in it.
 */
export function DeviceMenu({ choice, onChoose }: { choice: DeviceChoice; onChoose: (choice: DeviceChoice) => void }) {
  const [open, setOpen] = useState(false);
  const [devices, setDevices] = useState<AudioDeviceInfo[] | null>(null);
  const [cameras, setCameras] = useState<CameraDeviceInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  /** What each camera seen here was called, to name one that is unplugged. */
  const [cameraNames, setCameraNames] = useState<ReadonlyMap<string, string>>(new Map());
  const showCameras = (list: CameraDeviceInfo[]) => {
    setCameras(list);
    if (list.length > 0) setCameraNames((known) => new Map([...known, ...list.map((c) => [c.name, c.description] as const)]));
  };

  // The watch lists at once, then again on every change, while the menu is
  // open. No PipeWire, no cameras: that list stays empty and the default (a
  // test pattern) is used.
  useEffect(() => {
    if (!open) return;
    return watchDevices((change) => {
      switch (change.kind) {
        case "audio":
          setError(null);
          setDevices(change.devices);
          break;
        case "audioUnavailable":
          setError(change.error.message);
          break;
        case "cameras":
          showCameras(change.cameras);
          break;
      }
    });
  }, [open]);

  const onOpenChange: MenuProps["onOpenChange"] = (_, data) => {
    setOpen(data.open);
    // A reason shown last time may no longer hold: the watch says afresh.
    if (data.open) setError(null);
  };

  const checkedValues = {
    input: [choice.input ?? DEFAULT],
    output: [choice.output ?? DEFAULT],
    camera: [choice.camera ?? DEFAULT],
  };
  const onCheckedValueChange: MenuProps["onCheckedValueChange"] = (_, { name, checkedItems }) => {
    const value = checkedItems[0] ?? DEFAULT;
    const picked = value === DEFAULT ? null : value;
    if (name === "camera") {
      onChoose({ ...choice, camera: picked, cameraDescription: picked === null ? null : (cameraNames.get(picked) ?? null) });
    } else if (name === "input" || name === "output") {
      onChoose({ ...choice, [name]: picked });
    }
  };

  const chosenCamera = choice.camera;
  // As for sound devices: an unplugged camera stays chosen (the call uses
  // another camera or the test pattern meanwhile), so it stays listed, by the
  // name it was shown with (in this menu, or when it was chosen).
  const cameraMissing = chosenCamera !== null && !cameras.some((c) => c.name === chosenCamera);
  const cameraGroup = (
    <MenuGroup>
      <MenuGroupHeader>Camera</MenuGroupHeader>
      <MenuItemRadio name="camera" value={DEFAULT}>
        System default
      </MenuItemRadio>
      {cameras.map((camera) => (
        <MenuItemRadio
          key={`camera-${camera.name}`}
          name="camera"
          value={camera.name}
          data-testid={`camera-${camera.name}`}
        >
          {camera.description}
        </MenuItemRadio>
      ))}
      {cameraMissing && (
        <MenuItemRadio key={`camera-${chosenCamera}`} name="camera" value={chosenCamera}>
          {`${cameraNames.get(chosenCamera) ?? choice.cameraDescription ?? chosenCamera} (not connected)`}
        </MenuItemRadio>
      )}
    </MenuGroup>
  );

  const group = (name: "input" | "output", title: string) => {
    const list = (devices ?? []).filter((d) => d.input === (name === "input"));
    const chosen = choice[name];
    // A chosen device that is unplugged stays chosen (the call uses the
    // system default until it is back), so it stays in the list, marked.
    const missing = devices !== null && chosen !== null && !list.some((d) => d.name === chosen);
    return (
      <MenuGroup>
        <MenuGroupHeader>{title}</MenuGroupHeader>
        <MenuItemRadio name={name} value={DEFAULT}>
          System default
        </MenuItemRadio>
        {list.map((device) => (
          <MenuItemRadio key={`${name}-${device.name}`} name={name} value={device.name}>
            {device.isDefault ? `${device.name} (default)` : device.name}
          </MenuItemRadio>
        ))}
        {missing && (
          <MenuItemRadio key={`${name}-${chosen}`} name={name} value={chosen}>
            {`${chosen} (not connected: using the system default)`}
          </MenuItemRadio>
        )}
      </MenuGroup>
    );
  };

  return (
    <Menu open={open} onOpenChange={onOpenChange} checkedValues={checkedValues} onCheckedValueChange={onCheckedValueChange}>
      <MenuTrigger disableButtonEnhancement>
        <Tooltip content="Devices" relationship="label">
          <Button shape="circular" size="large" icon={<SpeakerSettingsRegular />} data-testid="call-devices" />
        </Tooltip>
      </MenuTrigger>
      <MenuPopover>
        <MenuList>
          {group("input", "Microphone")}
          <MenuDivider />
          {group("output", "Speaker")}
          <MenuDivider />
          {cameraGroup}
          <MenuDivider />
          <MenuGroupHeader role="note">
            {error !== null
              ? `Could not list devices: ${error}`
              : devices === null
                ? "Looking for devices…"
                : "Your choice applies at once."}
          </MenuGroupHeader>
        </MenuList>
      </MenuPopover>
    </Menu>
  );
}
