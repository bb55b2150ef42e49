import { Skeleton, SkeletonItem, makeStyles, tokens } from "@fluentui/react-components";
import type { ServerSettings } from "../core";

const useStyles = makeStyles({
  list: {
    display: "grid",
    gridTemplateColumns: "max-content minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalS,
    margin: 0,
  },
  term: {
    color: tokens.colorNeutralForeground3,
    fontSize: tokens.fontSizeBase300,
    lineHeight: tokens.lineHeightBase300,
  },
  value: {
    margin: 0,
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase300,
    lineHeight: tokens.lineHeightBase300,
    overflowWrap: "anywhere",
  },
  skeleton: {
    display: "grid",
    gridTemplateColumns: "96px minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalM,
  },
});

/** Which server and Entra tenant this build signs in with. */
export function OrganisationDetails({ settings }: { settings: ServerSettings }) {
  const styles = useStyles();
  return (
    <dl className={styles.list}>
      <dt className={styles.term}>Server</dt>
      <dd className={styles.value} data-testid="server-url">
        {settings.serverUrl}
      </dd>
      <dt className={styles.term}>Organisation (tenant)</dt>
      <dd className={styles.value} data-testid="tenant">
        {settings.tenant}
      </dd>
      <dt className={styles.term}>Sign-in authority</dt>
      <dd className={styles.value} data-testid="authority">
        {settings.authority}
      </dd>
    </dl>
  );
}

/** The same rows while the core answers. */
export function OrganisationDetailsSkeleton() {
  const styles = useStyles();
  return (
    <Skeleton aria-label="Loading the server settings" data-testid="organisation-skeleton" className={styles.skeleton}>
      <SkeletonItem size={16} />
      <SkeletonItem size={16} />
      <SkeletonItem size={16} />
      <SkeletonItem size={16} />
      <SkeletonItem size={16} />
      <SkeletonItem size={16} />
    </Skeleton>
  );
}
