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
  /** What the item's badge counts, for screen readers ("Chat, 3 unread"). */
  badgeWord?: string;
}

export const panes: readonly PaneEntry[] = [
  { id: "chat", label: "Chat", icon: bundleIcon(ChatFilled, ChatRegular), placement: "top", badgeWord: "unread" },
  { id: "calls", label: "Calls", icon: bundleIcon(CallFilled, CallRegular), placement: "top", badgeWord: "missed" },
  { id: "settings", label: "Settings", icon: bundleIcon(SettingsFilled, SettingsRegular), placement: "bottom" },
];
