import { useState } from "react";
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
import { getAudioDevices, type AudioDeviceInfo } from "../core";
import { describeCoreError } from "../coreError";
import type { DeviceChoice } from "./useCallStore";

const DEFAULT = "\u0000default";

/** The microphone and speaker picker of the control bar. The choice applies to the next call. */
export function DeviceMenu({ choice, onChoose }: { choice: DeviceChoice; onChoose: (choice: DeviceChoice) => void }) {
  const [devices, setDevices] = useState<AudioDeviceInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const onOpenChange: MenuProps["onOpenChange"] = (_, data) => {
    if (!data.open) return;
    setError(null);
    getAudioDevices().then(setDevices, (failure: unknown) => setError(describeCoreError(failure)));
  };

  const checkedValues = { input: [choice.input ?? DEFAULT], output: [choice.output ?? DEFAULT] };
  const onCheckedValueChange: MenuProps["onCheckedValueChange"] = (_, { name, checkedItems }) => {
    const value = checkedItems[0] ?? DEFAULT;
    const picked = value === DEFAULT ? null : value;
    onChoose(name === "input" ? { ...choice, input: picked } : { ...choice, output: picked });
  };

  const group = (name: "input" | "output", title: string) => {
    const list = (devices ?? []).filter((d) => d.input === (name === "input"));
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
      </MenuGroup>
    );
  };

  return (
    <Menu onOpenChange={onOpenChange} checkedValues={checkedValues} onCheckedValueChange={onCheckedValueChange}>
      <MenuTrigger disableButtonEnhancement>
        <Tooltip content="Audio devices" relationship="label">
          <Button shape="circular" size="large" icon={<SpeakerSettingsRegular />} data-testid="call-devices" />
        </Tooltip>
      </MenuTrigger>
      <MenuPopover>
        <MenuList>
          {group("input", "Microphone")}
          <MenuDivider />
          {group("output", "Speaker")}
          <MenuDivider />
          <MenuGroupHeader role="note">
            {error !== null
              ? `Could not list devices: ${error}`
              : devices === null
                ? "Looking for devices…"
                : "Your choice applies to the next call."}
          </MenuGroupHeader>
        </MenuList>
      </MenuPopover>
    </Menu>
  );
}
