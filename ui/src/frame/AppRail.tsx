import type { ReactNode } from "react";
import {
  Caption2,
  CounterBadge,
  makeStyles,
  mergeClasses,
  tokens,
  useArrowNavigationGroup,
  createFocusOutlineStyle,
} from "@fluentui/react-components";
import { ConveneLogo } from "../brand/ConveneLogo";
import { panes, type Pane, type PaneEntry } from "./panes";

const useStyles = makeStyles({
  rail: {
    display: "flex",
    flexDirection: "column",
    alignItems: "stretch",
    gap: tokens.spacingVerticalXS,
    width: "68px",
    boxSizing: "border-box",
    paddingBlock: tokens.spacingVerticalS,
    backgroundColor: tokens.colorNeutralBackground3,
    borderRight: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  nav: {
    flexGrow: 1,
    display: "flex",
    flexDirection: "column",
    alignItems: "stretch",
    gap: tokens.spacingVerticalXS,
  },
  account: {
    display: "flex",
    justifyContent: "center",
    paddingTop: tokens.spacingVerticalS,
  },
  logo: {
    display: "flex",
    justifyContent: "center",
    paddingBlock: tokens.spacingVerticalS,
    marginBottom: tokens.spacingVerticalS,
  },
  spacer: { flexGrow: 1 },
  item: {
    position: "relative",
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    gap: "2px",
    height: "56px",
    marginInline: tokens.spacingHorizontalXS,
    padding: 0,
    border: "none",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: "transparent",
    color: tokens.colorNeutralForeground3,
    fontFamily: tokens.fontFamilyBase,
    cursor: "pointer",
    ":hover": {
      backgroundColor: tokens.colorSubtleBackgroundHover,
      color: tokens.colorNeutralForeground2BrandHover,
    },
    ":active": {
      backgroundColor: tokens.colorSubtleBackgroundPressed,
      color: tokens.colorNeutralForeground2BrandPressed,
    },
    ...createFocusOutlineStyle(),
  },
  current: {
    // The compound brand colour stays legible in every theme (cyan in high contrast).
    color: tokens.colorCompoundBrandForeground1,
    // The bar that marks where you are, as in Teams.
    "::before": {
      content: '""',
      position: "absolute",
      left: `calc(-1 * ${tokens.spacingHorizontalXS})`,
      top: "12px",
      bottom: "12px",
      width: "3px",
      borderRadius: tokens.borderRadiusMedium,
      backgroundColor: tokens.colorCompoundBrandStroke,
      // Windows high contrast repaints backgrounds; keep the marker visible.
      "@media (forced-colors: active)": {
        forcedColorAdjust: "none",
        backgroundColor: "Highlight",
      },
    },
  },
  icon: { fontSize: "24px" },
  badge: { position: "absolute", top: "6px", right: "10px" },
  label: { color: "inherit" },
});

interface AppRailProps {
  current: Pane;
  onNavigate: (pane: Pane) => void;
  /** The signed-in account's menu, under the app bar's items (its own Tab stop). */
  account?: ReactNode;
  /** Counts shown on items (unread chats, missed calls); zero shows nothing. */
  badges?: Partial<Record<Pane, number>>;
}

/**
 * The app bar. One Tab stop: arrow keys move between its items (tabster's
 * mover), Tab leaves it for the account button (when signed in), then the
 * main pane; Enter or a click opens an item.
 */
export function AppRail({ current, onNavigate, account, badges = {} }: AppRailProps) {
  const styles = useStyles();
  const arrowNavigation = useArrowNavigationGroup({ axis: "vertical", circular: true, memorizeCurrent: true });

  const item = (pane: PaneEntry) => {
    const isCurrent = pane.id === current;
    const Icon = pane.icon;
    const count = badges[pane.id] ?? 0;
    return (
      <button
        key={pane.id}
        type="button"
        className={mergeClasses(styles.item, isCurrent && styles.current)}
        aria-current={isCurrent ? "page" : undefined}
        aria-label={count > 0 ? `${pane.label}, ${count} ${pane.badgeWord ?? "new"}` : undefined}
        data-testid={`rail-${pane.id}`}
        onClick={() => onNavigate(pane.id)}
      >
        <Icon className={styles.icon} filled={isCurrent} aria-hidden />
        {count > 0 && (
          <CounterBadge
            className={styles.badge}
            count={count}
            overflowCount={99}
            size="small"
            color="danger"
            aria-hidden
            data-testid="unread-badge"
          />
        )}
        <Caption2 className={styles.label}>{pane.label}</Caption2>
      </button>
    );
  };

  return (
    <div className={styles.rail}>
      <div className={styles.logo}>
        <ConveneLogo size={28} decorative />
      </div>
      <nav aria-label="App bar" className={styles.nav} {...arrowNavigation}>
        {panes.filter((pane) => pane.placement === "top").map(item)}
        <div className={styles.spacer} />
        {panes.filter((pane) => pane.placement === "bottom").map(item)}
      </nav>
      {account !== undefined && <div className={styles.account}>{account}</div>}
    </div>
  );
}
