import { Skeleton, SkeletonItem, makeStyles, tokens } from "@fluentui/react-components";

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    maxWidth: "480px",
    padding: tokens.spacingHorizontalXXL,
  },
  row: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
  },
  line: { flexGrow: 1 },
});

/** The main pane while the core says who is signed in. */
export function SessionSkeleton() {
  const styles = useStyles();
  return (
    <Skeleton aria-label="Loading your account" data-testid="session-skeleton" className={styles.root}>
      <div className={styles.row}>
        <SkeletonItem shape="circle" size={48} />
        <SkeletonItem size={24} className={styles.line} />
      </div>
      <SkeletonItem size={16} />
      <SkeletonItem size={16} />
    </Skeleton>
  );
}
