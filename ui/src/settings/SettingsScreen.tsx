import {
  Body1,
  Field,
  Radio,
  RadioGroup,
  Skeleton,
  SkeletonItem,
  Subtitle1,
  Title2,
  makeStyles,
  tokens,
  useId,
} from "@fluentui/react-components";
import { AppInfoError } from "../appInfo/AppInfoError";
import type { AppInfoState } from "../appInfo/useAppInfo";
import { ConveneLogo } from "../brand/ConveneLogo";
import { isThemePreference, type ResolvedTheme, type ThemePreference } from "../theme/themeResolution";

const useStyles = makeStyles({
  root: {
    boxSizing: "border-box",
    maxWidth: "720px",
    padding: `${tokens.spacingVerticalXXL} ${tokens.spacingHorizontalXXXL}`,
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXXL,
  },
  heading: { margin: 0 },
  section: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    padding: tokens.spacingHorizontalXL,
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow4,
  },
  about: {
    display: "flex",
    alignItems: "flex-start",
    gap: tokens.spacingHorizontalL,
  },
  facts: {
    display: "grid",
    gridTemplateColumns: "max-content minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalXS,
    margin: 0,
  },
  term: { color: tokens.colorNeutralForeground3 },
  value: { margin: 0, overflowWrap: "anywhere" },
  skeleton: {
    flexGrow: 1,
    display: "grid",
    rowGap: tokens.spacingVerticalS,
  },
});

const themeLabels: Record<ThemePreference, string> = {
  system: "System",
  light: "Light",
  dark: "Dark",
  highContrast: "High contrast",
};

const resolvedLabels: Record<ResolvedTheme, string> = {
  light: "light",
  dark: "dark",
  highContrast: "high contrast",
};

export interface ThemeChoice {
  preference: ThemePreference;
  resolved: ResolvedTheme;
  choose: (next: ThemePreference) => void;
}

export interface SettingsScreenProps {
  theme: ThemeChoice;
  appInfo: AppInfoState;
  onReloadAppInfo: () => void;
}

export function SettingsScreen({ theme, appInfo, onReloadAppInfo }: SettingsScreenProps) {
  const styles = useStyles();
  const titleId = useId("settings-title");
  const appearanceId = useId("appearance-title");
  const aboutId = useId("about-title");

  return (
    <section className={styles.root} aria-labelledby={titleId} data-testid="settings-screen">
      <Title2 as="h1" id={titleId} className={styles.heading}>
        Settings
      </Title2>

      <section className={styles.section} aria-labelledby={appearanceId}>
        <Subtitle1 as="h2" id={appearanceId} className={styles.heading}>
          Appearance
        </Subtitle1>
        <Field
          label="Theme"
          hint={
            theme.preference === "system"
              ? `Follows your device's appearance; now ${resolvedLabels[theme.resolved]}.`
              : "Applies to Convene only."
          }
        >
          <RadioGroup
            value={theme.preference}
            onChange={(_event, data) => {
              if (isThemePreference(data.value)) theme.choose(data.value);
            }}
            data-testid="theme-choice"
          >
            {(Object.keys(themeLabels) as ThemePreference[]).map((value) => (
              <Radio key={value} value={value} label={themeLabels[value]} />
            ))}
          </RadioGroup>
        </Field>
      </section>

      <section className={styles.section} aria-labelledby={aboutId}>
        <Subtitle1 as="h2" id={aboutId} className={styles.heading}>
          About
        </Subtitle1>
        {appInfo.status === "failed" ? (
          <AppInfoError message={appInfo.message} onRetry={onReloadAppInfo} />
        ) : (
          <div className={styles.about}>
            <ConveneLogo size={48} decorative />
            {appInfo.status === "loading" ? (
              <Skeleton aria-label="Loading version information" className={styles.skeleton}>
                <SkeletonItem size={16} />
                <SkeletonItem size={16} />
              </Skeleton>
            ) : (
              <dl className={styles.facts}>
                <dt className={styles.term}>Convene</dt>
                <dd className={styles.value} data-testid="app-version">
                  Version {appInfo.info.version}
                </dd>
                <dt className={styles.term}>Server</dt>
                <dd className={styles.value} data-testid="about-server-url">
                  {appInfo.info.settings.serverUrl}
                </dd>
              </dl>
            )}
          </div>
        )}
        <Body1>Convene is an independent app that works with Microsoft Teams work accounts.</Body1>
      </section>
    </section>
  );
}
