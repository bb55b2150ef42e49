import { useState } from "react";
import {
  Avatar,
  Button,
  Caption1,
  SearchBox,
  Spinner,
  Text,
  Tooltip,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { CallRegular, VideoRegular } from "@fluentui/react-icons";
import { usePeopleSearch } from "../chat/usePeopleSearch";

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, maxWidth: "480px" },
  list: { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column" },
  person: {
    display: "grid",
    gridTemplateColumns: "32px minmax(0, 1fr) auto auto",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    borderRadius: tokens.borderRadiusMedium,
    ":hover": { backgroundColor: tokens.colorSubtleBackgroundHover },
  },
  words: { display: "flex", flexDirection: "column", minWidth: 0 },
  upn: { color: tokens.colorNeutralForeground3 },
  hint: { color: tokens.colorNeutralForeground3 },
});

interface MakeCallProps {
  /** A call is going on: no new one meanwhile. */
  busy: boolean;
  onCall: (userId: string, video: boolean, name: string) => void;
}

/** "Make a call": find a colleague by name and call them, with or without video. */
export function MakeCall({ busy, onCall }: MakeCallProps) {
  const styles = useStyles();
  const [query, setQuery] = useState("");
  const search = usePeopleSearch(query);
  const typed = query.trim() !== "";
  return (
    <div className={styles.root} data-testid="make-call">
      <SearchBox
        placeholder="Type a name to call"
        aria-label="Find someone to call"
        value={query}
        onChange={(_, data) => setQuery(data.value)}
        data-testid="make-call-search"
      />
      {search.error !== null && (
        <Text role="alert" className={styles.hint}>
          Could not search: {search.error}
        </Text>
      )}
      {typed && search.searching && <Spinner size="tiny" label="Searching…" labelPosition="after" />}
      {typed && !search.searching && search.error === null && search.results.length === 0 && (
        <Caption1 className={styles.hint}>No one by that name</Caption1>
      )}
      {search.results.length > 0 && (
        <ul className={styles.list} aria-label="People to call">
          {search.results.map((person) => (
            <li key={person.id} className={styles.person} data-testid="make-call-person">
              <Avatar name={person.displayName} size={32} color="colorful" aria-hidden />
              <div className={styles.words}>
                <Text>{person.displayName}</Text>
                {person.userPrincipalName !== null && <Caption1 className={styles.upn}>{person.userPrincipalName}</Caption1>}
              </div>
              <Tooltip content={`Video call ${person.displayName}`} relationship="label">
                <Button
                  appearance="subtle"
                  icon={<VideoRegular />}
                  disabled={busy}
                  onClick={() => onCall(person.id, true, person.displayName)}
                  data-testid="make-call-video"
                />
              </Tooltip>
              <Tooltip content={`Call ${person.displayName}`} relationship="label">
                <Button
                  appearance="subtle"
                  icon={<CallRegular />}
                  disabled={busy}
                  onClick={() => onCall(person.id, false, person.displayName)}
                  data-testid="make-call-audio"
                />
              </Tooltip>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
