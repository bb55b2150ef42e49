import { useState } from "react";
import {
  Avatar,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Input,
  Spinner,
  Tag,
  TagGroup,
  Text,
  ToggleButton,
  createFocusOutlineStyle,
  makeStyles,
  mergeClasses,
  tokens,
  useArrowNavigationGroup,
} from "@fluentui/react-components";
import { CheckmarkRegular, ComposeRegular, PersonAddRegular } from "@fluentui/react-icons";
import { startChat, type ChatSummary, type Person } from "../core";
import { describeCoreError } from "../coreError";
import { DismissibleError } from "../session/DismissibleError";
import { usePeopleSearch } from "./usePeopleSearch";

const useStyles = makeStyles({
  content: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
  results: { display: "flex", flexDirection: "column", minHeight: "120px", maxHeight: "280px", overflowY: "auto" },
  result: { display: "flex", alignItems: "center", borderRadius: tokens.borderRadiusMedium },
  option: {
    display: "flex",
    flexGrow: 1,
    alignItems: "center",
    gap: tokens.spacingHorizontalS,
    padding: tokens.spacingVerticalS,
    border: "none",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: "transparent",
    color: tokens.colorNeutralForeground1,
    textAlign: "start",
    fontFamily: tokens.fontFamilyBase,
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorSubtleBackgroundHover },
    ...createFocusOutlineStyle(),
  },
  picked: { backgroundColor: tokens.colorNeutralBackground1Selected },
  who: { display: "flex", flexDirection: "column", flexGrow: 1, minWidth: 0 },
  upn: { color: tokens.colorNeutralForeground3 },
  hint: { color: tokens.colorNeutralForeground3, padding: tokens.spacingVerticalS },
});

interface NewChatDialogProps {
  /** The chat startChat answered with (an existing 1:1 chat, or a new one). */
  onStarted: (chat: ChatSummary) => void;
}

/**
 * "New chat": find people and open the chat with them. Choosing a person
 * opens the chat straight away (with anyone already added); "Add to a group
 * chat" collects several first.
 */
export function NewChatDialog({ onStarted }: NewChatDialogProps) {
  const [open, setOpen] = useState(false);
  // A fresh picker every time the dialog opens.
  const [session, setSession] = useState(0);
  return (
    <Dialog
      open={open}
      onOpenChange={(_, data) => {
        setOpen(data.open);
        if (data.open) setSession((n) => n + 1);
      }}
    >
      <DialogTrigger disableButtonEnhancement>
        <Button appearance="subtle" icon={<ComposeRegular />} aria-label="New chat" title="New chat" data-testid="new-chat" />
      </DialogTrigger>
      <PeoplePicker
        key={session}
        onStarted={(chat) => {
          setOpen(false);
          onStarted(chat);
        }}
      />
    </Dialog>
  );
}

function PeoplePicker({ onStarted }: NewChatDialogProps) {
  const styles = useStyles();
  const [query, setQuery] = useState("");
  const [picked, setPicked] = useState<Person[]>([]);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const search = usePeopleSearch(query);
  const arrows = useArrowNavigationGroup({ axis: "grid" });

  const toggle = (person: Person) =>
    setPicked((current) =>
      current.some((p) => p.id === person.id) ? current.filter((p) => p.id !== person.id) : [...current, person],
    );

  const start = (people: Person[]) => {
    if (people.length === 0 || starting) return;
    setStarting(true);
    setError(null);
    startChat(
      people.map((p) => p.id),
      null,
    ).then(onStarted, (e: unknown) => {
      setStarting(false);
      setError(describeCoreError(e));
    });
  };

  return (
    <DialogSurface aria-describedby={undefined}>
      <DialogBody>
        <DialogTitle>New chat</DialogTitle>
        <DialogContent className={styles.content}>
          {picked.length > 0 && (
            <TagGroup
              aria-label="People in the new chat"
              onDismiss={(_, data) => setPicked((c) => c.filter((p) => p.id !== data.value))}
            >
              {picked.map((person) => (
                <Tag
                  key={person.id}
                  value={person.id}
                  dismissible
                  dismissIcon={{ "aria-label": `Remove ${person.displayName}` }}
                  media={<Avatar name={person.displayName} size={20} color="colorful" aria-hidden />}
                >
                  {person.displayName}
                </Tag>
              ))}
            </TagGroup>
          )}
          <Field label="To">
            <Input
              autoFocus
              value={query}
              placeholder="Type a name or e-mail address"
              onChange={(_, data) => setQuery(data.value)}
              contentAfter={search.searching ? <Spinner size="extra-tiny" aria-label="Searching" /> : null}
              data-testid="people-search"
            />
          </Field>
          <div className={styles.results} role="group" aria-label="People found" {...arrows}>
            {search.results.map((person) => {
              const isPicked = picked.some((p) => p.id === person.id);
              const others = picked.filter((p) => p.id !== person.id);
              const everyone = [...others, person];
              return (
                <div key={person.id} className={mergeClasses(styles.result, isPicked && styles.picked)}>
                  <button
                    type="button"
                    className={styles.option}
                    aria-label={
                      others.length === 0
                        ? `Chat with ${person.displayName}`
                        : `Start a group chat with ${everyone.map((p) => p.displayName).join(", ")}`
                    }
                    data-testid="people-option"
                    data-user-id={person.id}
                    disabled={starting}
                    onClick={() => start(everyone)}
                  >
                    <Avatar name={person.displayName} size={28} color="colorful" aria-hidden />
                    <span className={styles.who}>
                      <Text>{person.displayName}</Text>
                      {person.userPrincipalName !== null && (
                        <Text size={200} className={styles.upn}>
                          {person.userPrincipalName}
                        </Text>
                      )}
                    </span>
                  </button>
                  <ToggleButton
                    appearance="subtle"
                    checked={isPicked}
                    icon={isPicked ? <CheckmarkRegular /> : <PersonAddRegular />}
                    aria-label={`Add ${person.displayName} to a group chat`}
                    title="Add to a group chat"
                    data-testid="people-add"
                    onClick={() => toggle(person)}
                  />
                </div>
              );
            })}
            {query.trim() !== "" && !search.searching && search.error === null && search.results.length === 0 && (
              <Text className={styles.hint}>Nobody found for “{query.trim()}”.</Text>
            )}
            {query.trim() === "" && picked.length === 0 && (
              <Text className={styles.hint}>Search for the people you want to chat with.</Text>
            )}
          </div>
          {search.error !== null && <Text role="alert">{search.error}</Text>}
          {error !== null && <DismissibleError message={error} onDismiss={() => setError(null)} testId="new-chat-error" />}
        </DialogContent>
        <DialogActions>
          <DialogTrigger disableButtonEnhancement>
            <Button>Cancel</Button>
          </DialogTrigger>
          <Button
            appearance="primary"
            disabled={picked.length === 0 || starting}
            onClick={() => start(picked)}
            data-testid="start-chat"
          >
            {starting ? "Opening…" : "Start chat"}
          </Button>
        </DialogActions>
      </DialogBody>
    </DialogSurface>
  );
}
