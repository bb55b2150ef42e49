import {
  Avatar,
  Caption1,
  Menu,
  MenuDivider,
  MenuGroup,
  MenuGroupHeader,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Text,
  createFocusOutlineStyle,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { PersonAddRegular, SignOutRegular } from "@fluentui/react-icons";
import type { AccountProfile } from "../core";

const useStyles = makeStyles({
  trigger: {
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
    alignSelf: "center",
    padding: tokens.spacingHorizontalXS,
    border: "none",
    borderRadius: tokens.borderRadiusCircular,
    backgroundColor: "transparent",
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorSubtleBackgroundHover },
    ":active": { backgroundColor: tokens.colorSubtleBackgroundPressed },
    ...createFocusOutlineStyle({ style: { outlineRadius: tokens.borderRadiusCircular } }),
  },
  profile: {
    display: "grid",
    gridTemplateColumns: "auto minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalM,
    alignItems: "center",
    maxWidth: "320px",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalS} ${tokens.spacingVerticalM}`,
  },
  profileText: {
    display: "flex",
    flexDirection: "column",
    minWidth: 0,
  },
  secondary: {
    color: tokens.colorNeutralForeground3,
    overflowWrap: "anywhere",
  },
  switchItem: {
    display: "flex",
    flexDirection: "column",
  },
});

interface AccountMenuProps {
  account: AccountProfile;
  /** Every account signed in on this device; the current one is left out of "Switch to". */
  accounts: AccountProfile[];
  onSwitch: (userId: string) => void;
  onAddAccount: () => void;
  onSignOut: (userId: string) => void;
}

/** The signed-in account's avatar in the app bar, opening who you are and what you can do about it. */
export function AccountMenu({ account, accounts, onSwitch, onAddAccount, onSignOut }: AccountMenuProps) {
  const styles = useStyles();
  const others = accounts.filter((other) => other.userId !== account.userId);

  return (
    <Menu positioning={{ position: "after", align: "bottom" }}>
      <MenuTrigger disableButtonEnhancement>
        <button
          type="button"
          className={styles.trigger}
          aria-label={`Account: ${account.name}`}
          title={`${account.name} (${account.username})`}
          data-testid="account-button"
        >
          <Avatar name={account.name} size={32} color="colorful" aria-hidden />
        </button>
      </MenuTrigger>
      <MenuPopover>
        <div className={styles.profile} data-testid="account-details">
          <Avatar name={account.name} size={48} color="colorful" aria-hidden />
          <div className={styles.profileText}>
            <Text weight="semibold" data-testid="account-name">
              {account.name}
            </Text>
            <Caption1 className={styles.secondary} data-testid="account-username">
              {account.username}
            </Caption1>
            <Caption1 className={styles.secondary} data-testid="account-tenant">
              Organisation (tenant) {account.tenantId}
            </Caption1>
          </div>
        </div>
        <MenuList>
          {others.length > 0 && (
            <>
              <MenuGroup>
                <MenuGroupHeader>Other accounts</MenuGroupHeader>
                {others.map((other) => (
                  <MenuItem
                    key={other.userId}
                    icon={<Avatar name={other.name} size={20} color="colorful" aria-hidden />}
                    onClick={() => onSwitch(other.userId)}
                    data-testid="switch-account"
                    data-user-id={other.userId}
                  >
                    <span className={styles.switchItem}>
                      <span>Switch to {other.name}</span>{" "}
                      <Caption1 className={styles.secondary}>{other.username}</Caption1>
                    </span>
                  </MenuItem>
                ))}
              </MenuGroup>
              <MenuDivider />
            </>
          )}
          <MenuItem icon={<PersonAddRegular />} onClick={onAddAccount} data-testid="add-account">
            Add another account
          </MenuItem>
          <MenuItem icon={<SignOutRegular />} onClick={() => onSignOut(account.userId)} data-testid="sign-out">
            Sign out
          </MenuItem>
        </MenuList>
      </MenuPopover>
    </Menu>
  );
}
