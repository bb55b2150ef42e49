import {
  CallFilled,
  CallRegular,
  ChatFilled,
  ChatRegular,
  SettingsFilled,
  SettingsRegular,
  bundleIcon,
  type FluentIcon,
} from "@fluentui/react-icons";

/** The places the app bar leads to. */
export type Pane = "chat" | "calls" | "settings";

export interface PaneEntry {
  id: Pane;
  label: string;
  icon: FluentIcon;
  /** Pinned to the bottom of the app bar, as Teams does with its settings. */
  placement: "top" | "bottom";
}

export const panes: readonly PaneEntry[] = [
  { id: "chat", label: "Chat", icon: bundleIcon(ChatFilled, ChatRegular), placement: "top" },
  { id: "calls", label: "Calls", icon: bundleIcon(CallFilled, CallRegular), placement: "top" },
  { id: "settings", label: "Settings", icon: bundleIcon(SettingsFilled, SettingsRegular), placement: "bottom" },
];
