import {
  Body1,
  Button,
  Caption1,
  Subtitle2,
  Title1,
  makeStyles,
  tokens,
  useId,
} from "@fluentui/react-components";
import { PersonRegular } from "@fluentui/react-icons";
import { AppInfoError } from "../appInfo/AppInfoError";
import type { AppInfoState } from "../appInfo/useAppInfo";
import { ConveneLogo } from "../brand/ConveneLogo";
import { ConnectionIndicator } from "../connection/ConnectionIndicator";
import type { ConnectionView } from "../connection/useConnectionStatus";
import { SignInStatus } from "../session/SignInStatus";
import type { SignInView } from "../session/useSession";
import { OrganisationDetails, OrganisationDetailsSkeleton } from "./OrganisationDetails";

export type SignInPurpose = "chat" | "calls";

const purposeText: Record<SignInPurpose, string> = {
  chat: "Sign in to see your chats.",
  calls: "Sign in to make and receive calls.",
};

const useStyles = makeStyles({
  root: {
    minHeight: "100%",
    boxSizing: "border-box",
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
    padding: tokens.spacingHorizontalXXL,
  },
  card: {
    width: "100%",
    maxWidth: "460px",
    boxSizing: "border-box",
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXL,
    padding: `${tokens.spacingVerticalXXL} ${tokens.spacingHorizontalXXL}`,
    backgroundColor: tokens.colorNeutralBackground1,
    borderRadius: tokens.borderRadiusXLarge,
    boxShadow: tokens.shadow16,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorTransparentStroke}`,
  },
  header: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    textAlign: "center",
    gap: tokens.spacingVerticalS,
  },
  title: {
    margin: 0,
  },
  tagline: {
    color: tokens.colorNeutralForeground2,
  },
  organisation: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    padding: tokens.spacingHorizontalL,
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  sectionTitle: {
    margin: 0,
  },
  actions: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
  },
  hint: {
    color: tokens.colorNeutralForeground3,
    textAlign: "center",
  },
});

export interface SignInScreenProps {
  purpose: SignInPurpose;
  appInfo: AppInfoState;
  onReloadAppInfo: () => void;
  connection: ConnectionView;
  signIn: SignInView;
  onSignIn: () => void;
  onCancelSignIn: () => void;
  onDismissSignInError: () => void;
}

/** The first screen: who Convene is, which organisation it will use, and whether it can reach it. */
export function SignInScreen({
  purpose,
  appInfo,
  onReloadAppInfo,
  connection,
  signIn,
  onSignIn,
  onCancelSignIn,
  onDismissSignInError,
}: SignInScreenProps) {
  const styles = useStyles();
  const titleId = useId("sign-in-title");
  const organisationId = useId("organisation-title");

  const unreachable = connection.status?.state === "unreachable";
  const canSignIn = appInfo.status === "ready" && !unreachable;
  const signingIn = signIn.phase !== "idle";

  return (
    <section className={styles.root} aria-labelledby={titleId} data-testid="sign-in-screen">
      <div className={styles.card}>
        <header className={styles.header}>
          <ConveneLogo size={64} decorative />
          <Title1 as="h1" id={titleId} className={styles.title}>
            Convene
          </Title1>
          <Body1 className={styles.tagline}>Works with Microsoft Teams work accounts.</Body1>
          <Body1>{purposeText[purpose]}</Body1>
        </header>

        <section className={styles.organisation} aria-labelledby={organisationId}>
          <Subtitle2 as="h2" id={organisationId} className={styles.sectionTitle}>
            Your organisation
          </Subtitle2>
          {appInfo.status === "loading" && <OrganisationDetailsSkeleton />}
          {appInfo.status === "failed" && <AppInfoError message={appInfo.message} onRetry={onReloadAppInfo} />}
          {appInfo.status === "ready" && <OrganisationDetails settings={appInfo.info.settings} />}
          <ConnectionIndicator connection={connection} />
        </section>

        <div className={styles.actions}>
          <Button
            appearance="primary"
            size="large"
            icon={<PersonRegular />}
            disabled={!canSignIn}
            // Keeps focus (and its place in the Tab order) while the browser is open.
            disabledFocusable={canSignIn && signingIn}
            onClick={onSignIn}
            data-testid="sign-in-button"
          >
            Sign in with work account
          </Button>
          {unreachable && (
            <Caption1 className={styles.hint}>
              Signing in needs the server. Convene keeps trying, or choose Try again.
            </Caption1>
          )}
          <SignInStatus signIn={signIn} onCancel={onCancelSignIn} onDismissError={onDismissSignInError} />
        </div>
      </div>
    </section>
  );
}
